using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sessiond.Load.Streams;

/// <summary>
/// Server memory per idle connection: reads the server's VmRSS once it is steady, opens <c>--count</c> connections and
/// leaves them idle, and reads it again once steady. <c>--kind stream</c> opens SSE streams spread evenly over
/// <c>--sessions</c> sessions (each counted once its first status frame arrived); <c>--kind keepalive</c>, the peer, opens
/// plain HTTP/1.1 connections that each answered one <c>GET /healthz</c>. Run each kind on a fresh server.
/// </summary>
internal static class IdleScenario
{
    public static async Task<int> RunAsync(Arguments args, CancellationToken cancellationToken)
    {
        var url = args.Required("url");
        var kind = args.String("kind", "stream");
        var count = args.Int("count", 10_000);
        var sessions = args.Int("sessions", 1000);
        var warmup = args.Int("warmup", 200);
        var openConcurrency = args.Int("open-concurrency", 100);
        var server = new ServerProcess(args.ServerPid > 0 ? args.ServerPid : throw new ArgumentException("--server-pid is required."));
        using var http = StreamsHttp.Create(url);
        var endpoint = IPEndPoint.Parse(http.BaseAddress!.Authority);

        Func<int, CancellationToken, Task<IdleConnection>> open = kind switch
        {
            "stream" => (i, ct) => IdleConnection.OpenStreamAsync(http, $"v1/sessions/{SessionId(i % sessions)}/stream", ct),
            "keepalive" => (_, ct) => IdleConnection.OpenKeepAliveAsync(endpoint, ct),
            _ => throw new ArgumentException($"--kind must be stream or keepalive, not '{kind}'."),
        };

        if (kind == "stream")
        {
            Output.Progress($"idle: creating {sessions} sessions");
            await Parallel.ForEachAsync(
                Enumerable.Range(0, sessions),
                new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
                async (i, ct) => await StreamsHttp.CreateSessionAsync(http, SessionId(i), ct));
        }

        // Warm up the path (JIT, pools), so the baseline below already holds what any first connection costs once.
        Output.Progress($"idle: warming up with {warmup} {kind} connections");
        var warm = await OpenAsync(open, warmup, openConcurrency, cancellationToken);
        foreach (var connection in warm.Connections)
        {
            await connection.DisposeAsync();
        }

        var settle = TimeSpan.FromSeconds(args.Int("settle-seconds", 60));
        var before = await server.WaitForStableRssAsync(5, 1024, settle, cancellationToken);
        var threadsBefore = server.Status("Threads");
        Output.Progress($"idle: server RSS {before.RssKb} kB (steady: {before.Settled}); opening {count} {kind} connections");

        var opening = Stopwatch.StartNew();
        var opened = await OpenAsync(open, count, openConcurrency, cancellationToken);
        var openSeconds = opening.Elapsed.TotalSeconds;
        var after = await server.WaitForStableRssAsync(5, 1024, settle, cancellationToken);
        var threadsAfter = server.Status("Threads");
        var peakKb = server.Status("VmHWM");
        var endedEarly = opened.Connections.Count(static c => c.EndedEarly);
        var perConnectionKb = opened.Connections.Count == 0 ? double.NaN : (after.RssKb - before.RssKb) / (double)opened.Connections.Count;
        Output.Progress($"idle: server RSS {after.RssKb} kB (steady: {after.Settled}) with {opened.Connections.Count} open: {perConnectionKb:F1} kB each");

        foreach (var connection in opened.Connections)
        {
            await connection.DisposeAsync();
        }

        Output.Value("idle.kind", kind);
        Output.Value("idle.count", count);
        Output.Value("idle.opened", opened.Connections.Count);
        Output.Value("idle.failed", opened.Failed);
        Output.Value("idle.first_error", opened.FirstError?.ReplaceLineEndings(" ") ?? "none");
        Output.Value("idle.ended_early", endedEarly);
        Output.Value("idle.open_seconds", openSeconds, 1);
        Output.Value("idle.rss_before_kb", before.RssKb);
        Output.Value("idle.rss_before_steady", before.Settled ? "yes" : "no");
        Output.Value("idle.rss_after_kb", after.RssKb);
        Output.Value("idle.rss_after_steady", after.Settled ? "yes" : "no");
        Output.Value("idle.settle_seconds", after.Seconds, 0);
        Output.Value("idle.peak_kb", peakKb);
        Output.Value("idle.threads_before", threadsBefore);
        Output.Value("idle.threads_after", threadsAfter);
        Output.Value("idle.kb_per_connection", perConnectionKb, 1);
        return 0;
    }

    private static string SessionId(int index) => $"idle-{index:D5}";

    private static async Task<(List<IdleConnection> Connections, int Failed, string? FirstError)> OpenAsync(
        Func<int, CancellationToken, Task<IdleConnection>> open, int count, int concurrency, CancellationToken cancellationToken)
    {
        var connections = new ConcurrentBag<IdleConnection>();
        var failed = 0;
        string? firstError = null;
        await Parallel.ForEachAsync(
            Enumerable.Range(0, count),
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                try
                {
                    connections.Add(await open(i, ct));
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException or SocketException)
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, ex.Message, null);
                }
            });
        return ([.. connections], failed, firstError);
    }
}
