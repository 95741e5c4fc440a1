using System.Diagnostics;

namespace Sessiond.Load.Streams;

/// <summary>
/// One session, many subscribers: opens <c>--subscribers</c> streams on one session (at most <c>--open-concurrency</c>
/// connecting at a time, each counted once its first status frame arrives), then appends <c>--rate</c> events a second
/// for <c>--seconds</c>. Every subscriber must receive every event exactly once, in order; the latency of each delivery
/// is its arrival minus the moment just before the event's POST.
/// </summary>
internal static class FanOutScenario
{
    public static async Task<int> RunAsync(Arguments args, CancellationToken cancellationToken)
    {
        var url = args.Required("url");
        var count = args.Int("subscribers", 5000);
        var rate = args.Int("rate", 10);
        var events = rate * args.Int("seconds", 20);
        var openLimit = TimeSpan.FromSeconds(args.Int("open-seconds", 180));
        var server = args.ServerPid > 0 ? new ServerProcess(args.ServerPid) : null;
        using var streams = StreamsHttp.Create(url);
        using var appender = StreamsHttp.Create(url);

        var sessionId = "fanout-" + Guid.NewGuid().ToString("N")[..12];
        await StreamsHttp.CreateSessionAsync(appender, sessionId, cancellationToken);

        // --- open the subscribers -----------------------------------------------------------------------------------------
        Output.Progress($"fanout: opening {count} streams on {sessionId}");
        var sentAt = new long[events + 1];
        var subscribers = Enumerable.Range(0, count).Select(_ => new FanOutSubscriber(events)).ToArray();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var openGate = new SemaphoreSlim(args.Int("open-concurrency", 50));
        var connected = 0;
        var opening = Stopwatch.StartNew();
        var path = $"v1/sessions/{sessionId}/stream";
        var running = subscribers
            .Select(s => s.RunAsync(streams, path, openGate, sentAt, () => Interlocked.Increment(ref connected), stop.Token))
            .ToArray();
        var nextReport = TimeSpan.FromSeconds(5);
        while (Volatile.Read(ref connected) + subscribers.Count(static s => s.Error is not null) < count && opening.Elapsed < openLimit)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
            if (opening.Elapsed >= nextReport)
            {
                Output.Progress($"fanout: {Volatile.Read(ref connected)} of {count} streams open");
                nextReport += TimeSpan.FromSeconds(5);
            }
        }

        var openSeconds = opening.Elapsed.TotalSeconds;
        var open = Volatile.Read(ref connected);
        Output.Progress($"fanout: {open} of {count} streams open after {openSeconds:F1} s; appending {events} events at {rate}/s");
        var rssOpen = server?.Status("VmRSS") ?? 0;

        // --- append -------------------------------------------------------------------------------------------------------
        var acknowledged = new double[events + 1];
        Array.Fill(acknowledged, double.NaN);
        var body = StreamsHttp.AppendBody(1);
        var serverCpu = server?.CpuSeconds() ?? 0;
        var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var appending = Stopwatch.StartNew();
        using (var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / rate)))
        {
            for (var seq = 1; seq <= events; seq++)
            {
                await timer.WaitForNextTickAsync(cancellationToken);
                var start = Stopwatch.GetTimestamp();
                Volatile.Write(ref sentAt[seq], start);
                var lastSeq = await StreamsHttp.AppendAsync(appender, sessionId, body, cancellationToken);
                acknowledged[seq] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (lastSeq != seq)
                {
                    throw new InvalidOperationException($"Append {seq} answered lastSeq {lastSeq}; the session had another writer.");
                }
            }
        }

        var appendSeconds = appending.Elapsed.TotalSeconds;
        var drainLimit = TimeSpan.FromSeconds(args.Int("drain-seconds", 30));
        try
        {
            await Task.WhenAll(subscribers.Select(static s => s.Done)).WaitAsync(drainLimit, cancellationToken);
        }
        catch (TimeoutException)
        {
            Output.Progress($"fanout: not every subscriber had the last event {drainLimit.TotalSeconds} s after the last append");
        }

        var busySeconds = appending.Elapsed.TotalSeconds;
        var serverCores = server is null ? double.NaN : (server.CpuSeconds() - serverCpu) / busySeconds;
        var clientCores = (Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalSeconds / busySeconds;
        var rssAfter = server?.Status("VmRSS") ?? 0;
        await stop.CancelAsync();
        await Task.WhenAll(running);

        // --- report -------------------------------------------------------------------------------------------------------
        var delivered = new List<double>(open * events);
        var slowestPerEvent = new double[events];
        Array.Fill(slowestPerEvent, double.NaN);
        foreach (var subscriber in subscribers.Where(static s => s.Connected))
        {
            for (var seq = 1; seq <= events; seq++)
            {
                var latency = subscriber.LatencyMs(seq);
                if (!float.IsNaN(latency))
                {
                    delivered.Add(latency);
                    slowestPerEvent[seq - 1] = double.IsNaN(slowestPerEvent[seq - 1]) ? latency : Math.Max(slowestPerEvent[seq - 1], latency);
                }
            }
        }

        var received = subscribers.Sum(static s => (long)s.Received);
        Output.Value("fanout.subscribers", count);
        Output.Value("fanout.connected", open);
        Output.Value("fanout.open_seconds", openSeconds, 1);
        Output.Value("fanout.events", events);
        Output.Value("fanout.frames_expected", (long)count * events);
        Output.Value("fanout.frames_received", received);
        Output.Value("fanout.missing", ((long)count * events) - received);
        Output.Value("fanout.duplicates", subscribers.Sum(static s => (long)s.Duplicates));
        Output.Value("fanout.failed_streams", subscribers.Count(static s => s.Error is not null));
        Output.Value("fanout.first_error", subscribers.FirstOrDefault(static s => s.Error is not null)?.Error?.ReplaceLineEndings(" ") ?? "none");
        Output.Value("fanout.append_seconds", appendSeconds, 1);
        Output.Value("fanout.server_cores", serverCores, 2);
        Output.Value("fanout.client_cores", clientCores, 2);
        Output.Value("fanout.rss_open_kb", rssOpen);
        Output.Value("fanout.rss_after_kb", rssAfter);
        Output.Latencies("fanout.delivery", LatencySummary.Of(delivered));
        Output.Latencies("fanout.slowest", LatencySummary.Of(slowestPerEvent));
        Output.Latencies("fanout.ack", LatencySummary.Of(acknowledged.Skip(1)));
        return 0;
    }
}
