using System.Diagnostics;
using System.Globalization;

namespace Sessiond.Load.Streams;

/// <summary>
/// Append-to-delivery latency with one subscriber at a low rate: one event every <c>--interval-ms</c>, each timed from
/// just before its POST to the arrival of its frame on the stream. The peer, in the same run and at the same pace, is
/// the round trip of <c>GET /healthz</c> on one kept-alive connection.
/// </summary>
internal static class LatencyScenario
{
    public static async Task<int> RunAsync(Arguments args, CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromMilliseconds(args.Int("interval-ms", 20));
        var warmup = args.Int("warmup", 50);
        var measured = (int)(TimeSpan.FromSeconds(args.Int("seconds", 10)) / interval);
        var total = warmup + measured;
        var server = args.ServerPid > 0 ? new ServerProcess(args.ServerPid) : null;
        using var http = StreamsHttp.Create(args.Required("url"));

        var sessionId = "latency-" + Guid.NewGuid().ToString("N")[..12];
        await StreamsHttp.CreateSessionAsync(http, sessionId, cancellationToken);
        using var response = await StreamsHttp.OpenStreamAsync(http, $"v1/sessions/{sessionId}/stream", cancellationToken);
        var reader = new SseReader(await response.Content.ReadAsStreamAsync(cancellationToken), 4096);
        if (!await reader.ReadUntilAsync(SseFrameKind.Status, cancellationToken))
        {
            throw new InvalidOperationException("The stream ended before its first status frame.");
        }

        // sentAt[seq] is written before the POST that creates event seq, so it is set by the time its frame can arrive.
        var sentAt = new long[total + 1];
        var delivered = new double[total + 1];
        Array.Fill(delivered, double.NaN);
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var receiving = ReceiveAsync(reader, sentAt, delivered, total, stopReading.Token);

        Output.Progress($"latency: {warmup} warm-up and {measured} measured appends, one every {interval.TotalMilliseconds} ms, to one subscriber");
        var acknowledged = new double[total + 1];
        Array.Fill(acknowledged, double.NaN);
        var body = StreamsHttp.AppendBody(1);
        var serverCpu = 0.0;
        var measuring = Stopwatch.StartNew();
        using (var timer = new PeriodicTimer(interval))
        {
            for (var seq = 1; seq <= total; seq++)
            {
                await timer.WaitForNextTickAsync(cancellationToken);
                if (seq == warmup + 1)
                {
                    serverCpu = server?.CpuSeconds() ?? 0;
                    measuring.Restart();
                }

                var start = Stopwatch.GetTimestamp();
                Volatile.Write(ref sentAt[seq], start);
                var lastSeq = await StreamsHttp.AppendAsync(http, sessionId, body, cancellationToken);
                acknowledged[seq] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (lastSeq != seq)
                {
                    throw new InvalidOperationException($"Append {seq} answered lastSeq {lastSeq}; the session had another writer.");
                }
            }
        }

        var duplicates = await FinishAsync(receiving, stopReading, TimeSpan.FromSeconds(10));
        var appendSeconds = measuring.Elapsed.TotalSeconds;
        serverCpu = server is null ? double.NaN : (server.CpuSeconds() - serverCpu) / appendSeconds;

        var healthz = await MeasureHealthzAsync(args.Required("url"), warmup, measured, interval, cancellationToken);

        Output.Latencies("latency", LatencySummary.Of(delivered.Skip(warmup + 1)));
        Output.Value("latency.missing", delivered.Skip(1).Count(double.IsNaN));
        // The slowest measured deliveries with their seqs, which show whether they recur every so many appends.
        Output.Value("latency.slowest", string.Join(", ", Enumerable.Range(warmup + 1, measured)
            .Where(seq => !double.IsNaN(delivered[seq]))
            .OrderByDescending(seq => delivered[seq])
            .Take(6)
            .Order()
            .Select(seq => string.Create(CultureInfo.InvariantCulture, $"#{seq} {delivered[seq]:F1} ms"))));
        Output.Value("latency.duplicates", duplicates);
        Output.Value("latency.append_seconds", appendSeconds, 1);
        Output.Value("latency.server_cores", serverCpu, 2);
        Output.Latencies("latency.ack", LatencySummary.Of(acknowledged.Skip(warmup + 1)));
        Output.Latencies("healthz", healthz);
        if (args.String("samples", "") is { Length: > 0 } samplesFile)
        {
            // One line per append, for finding where the slow ones fall: seq, ms since the first, POST ms, delivery ms.
            await File.WriteAllLinesAsync(
                samplesFile,
                Enumerable.Range(1, total).Select(seq => string.Create(
                    CultureInfo.InvariantCulture,
                    $"{seq} {Stopwatch.GetElapsedTime(sentAt[1], sentAt[seq]).TotalMilliseconds:F1} {acknowledged[seq]:F2} {delivered[seq]:F2}")),
                cancellationToken);
        }

        return 0;
    }

    /// <summary>Records each event frame's latency until the last one arrives; returns the count of repeated or out-of-order frames.</summary>
    private static async Task<int> ReceiveAsync(SseReader reader, long[] sentAt, double[] delivered, int total, CancellationToken cancellationToken)
    {
        var duplicates = 0;
        long next = 1;
        while (await reader.ReadAsync(cancellationToken))
        {
            if (reader.Kind != SseFrameKind.Event)
            {
                continue;
            }

            var id = reader.Id;
            if (id < next || id > total)
            {
                duplicates++;
                continue;
            }

            delivered[id] = Stopwatch.GetElapsedTime(Volatile.Read(ref sentAt[id]), reader.ReceivedAt).TotalMilliseconds;
            next = id + 1;
            if (id == total)
            {
                break;
            }
        }

        return duplicates;
    }

    /// <summary>Waits (at most <paramref name="limit"/>) for the receiver to see the last frame, then stops it.</summary>
    private static async Task<int> FinishAsync(Task<int> receiving, CancellationTokenSource stop, TimeSpan limit)
    {
        try
        {
            return await receiving.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            Output.Progress($"latency: the last frame did not arrive within {limit.TotalSeconds} s of the last append");
            await stop.CancelAsync();
            try
            {
                return await receiving;
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
        }
    }

    private static async Task<LatencySummary> MeasureHealthzAsync(
        string url, int warmup, int measured, TimeSpan interval, CancellationToken cancellationToken)
    {
        Output.Progress($"latency: the peer, {measured} GET /healthz one every {interval.TotalMilliseconds} ms on one connection");
        using var http = StreamsHttp.Create(url, maxConnections: 1);
        var samples = new double[measured];
        using var timer = new PeriodicTimer(interval);
        for (var i = -warmup; i < measured; i++)
        {
            await timer.WaitForNextTickAsync(cancellationToken);
            var start = Stopwatch.GetTimestamp();
            using (var response = await http.GetAsync("healthz", cancellationToken))
            {
                await StreamsHttp.EnsureSuccessAsync(response, "GET /healthz", cancellationToken);
                await response.Content.ReadAsByteArrayAsync(cancellationToken);
            }

            if (i >= 0)
            {
                samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }

        return LatencySummary.Of(samples);
    }
}
