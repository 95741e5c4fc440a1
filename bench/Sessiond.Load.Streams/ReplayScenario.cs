using System.Diagnostics;

namespace Sessiond.Load.Streams;

/// <summary>
/// Replay to a fresh subscriber: seeds one session with <c>--events</c> events (<c>--batch</c> per POST), then times a new
/// stream with <c>?after=0</c> from its request to the last event's frame. The peer, on the same events in the same run,
/// pages through <c>GET /v1/sessions/{id}/events?afterSeq=..&amp;limit=--page</c>. Both are read as raw bytes, checked
/// for the full count, and neither parses the events' JSON; each runs once to warm up, then <c>--runs</c> times,
/// alternating, and the median is reported.
/// </summary>
internal static class ReplayScenario
{
    public static async Task<int> RunAsync(Arguments args, CancellationToken cancellationToken)
    {
        var events = args.Int("events", 100_000);
        var batch = args.Int("batch", 1000);
        var page = args.Int("page", 10_000);
        var runs = args.Int("runs", 5);
        using var http = StreamsHttp.Create(args.Required("url"));

        var sessionId = "replay-" + Guid.NewGuid().ToString("N")[..12];
        await StreamsHttp.CreateSessionAsync(http, sessionId, cancellationToken);
        Output.Progress($"replay: seeding {sessionId} with {events} events, {batch} per POST");
        var body = StreamsHttp.AppendBody(batch);
        var seeding = Stopwatch.StartNew();
        for (var appended = 0; appended < events; appended += batch)
        {
            var lastSeq = await StreamsHttp.AppendAsync(http, sessionId, appended + batch <= events ? body : StreamsHttp.AppendBody(events - appended), cancellationToken);
            if (lastSeq != Math.Min(appended + batch, events))
            {
                throw new InvalidOperationException($"Seeding answered lastSeq {lastSeq} after {Math.Min(appended + batch, events)} events.");
            }
        }

        var seedSeconds = seeding.Elapsed.TotalSeconds;
        var stream = new List<(double Seconds, long Bytes)>();
        var paged = new List<(double Seconds, long Bytes)>();
        var pages = 0;
        for (var run = 0; run <= runs; run++)
        {
            var sse = await ReplayStreamAsync(http, sessionId, events, cancellationToken);
            var get = await PageEventsAsync(http, sessionId, events, page, cancellationToken);
            pages = get.Pages;
            Output.Progress($"replay: run {run}{(run == 0 ? " (warm-up)" : "")}: stream {events / sse.Seconds:F0} events/s, GET pages {events / get.Seconds:F0} events/s");
            if (run > 0)
            {
                stream.Add((sse.Seconds, sse.Bytes));
                paged.Add((get.Seconds, get.Bytes));
            }
        }

        var streamMedian = Median(stream.Select(static r => r.Seconds));
        var pagedMedian = Median(paged.Select(static r => r.Seconds));
        Output.Value("replay.events", events);
        Output.Value("replay.seed_seconds", seedSeconds, 1);
        Output.Value("replay.runs", runs);
        Output.Value("replay.stream_seconds", streamMedian, 3);
        Output.Value("replay.stream_events_per_second", events / streamMedian, 0);
        Output.Value("replay.stream_best_events_per_second", events / stream.Min(static r => r.Seconds), 0);
        Output.Value("replay.stream_worst_events_per_second", events / stream.Max(static r => r.Seconds), 0);
        Output.Value("replay.stream_bytes", stream[0].Bytes);
        Output.Value("replay.get_seconds", pagedMedian, 3);
        Output.Value("replay.get_events_per_second", events / pagedMedian, 0);
        Output.Value("replay.get_best_events_per_second", events / paged.Min(static r => r.Seconds), 0);
        Output.Value("replay.get_worst_events_per_second", events / paged.Max(static r => r.Seconds), 0);
        Output.Value("replay.get_bytes", paged[0].Bytes);
        Output.Value("replay.get_pages", pages);
        return 0;
    }

    /// <summary>Opens a fresh stream after seq 0 and reads until event <paramref name="events"/>, checking every id on the way.</summary>
    private static async Task<(double Seconds, long Bytes)> ReplayStreamAsync(HttpClient http, string sessionId, int events, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        using var response = await StreamsHttp.OpenStreamAsync(http, $"v1/sessions/{sessionId}/stream?after=0", cancellationToken);
        var reader = new SseReader(await response.Content.ReadAsStreamAsync(cancellationToken), 64 * 1024);
        long next = 1;
        while (next <= events && await reader.ReadAsync(cancellationToken))
        {
            if (reader.Kind != SseFrameKind.Event)
            {
                continue;
            }

            if (reader.Id != next)
            {
                throw new InvalidOperationException($"The replay sent event {reader.Id} where {next} was due.");
            }

            next++;
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return next > events
            ? (seconds, reader.BytesRead)
            : throw new InvalidOperationException($"The replay ended after {next - 1} of {events} events.");
    }

    /// <summary>Reads every event through <c>GET .../events</c> pages, counting the events of each page.</summary>
    private static async Task<(double Seconds, long Bytes, int Pages)> PageEventsAsync(
        HttpClient http, string sessionId, int events, int limit, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        long? afterSeq = 0;
        long bytes = 0;
        var counted = 0;
        var pages = 0;
        while (afterSeq is { } after)
        {
            using var response = await http.GetAsync($"v1/sessions/{sessionId}/events?afterSeq={after}&limit={limit}", cancellationToken);
            await StreamsHttp.EnsureSuccessAsync(response, "GET /v1/sessions/{id}/events", cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            bytes += body.Length;
            pages++;
            counted += CountEvents(body);
            // nextAfterSeq is omitted (null) on the last page.
            afterSeq = StreamsHttp.FindLong(body, "\"nextAfterSeq\":"u8);
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return counted == events
            ? (seconds, bytes, pages)
            : throw new InvalidOperationException($"The pages held {counted} events, not {events}.");
    }

    /// <summary>Every stored event's JSON starts with its seq; the sample event holds no other <c>{"seq":</c>.</summary>
    private static int CountEvents(ReadOnlySpan<byte> json)
    {
        var count = 0;
        int at;
        while ((at = json.IndexOf("{\"seq\":"u8)) >= 0)
        {
            count++;
            json = json[(at + 7)..];
        }

        return count;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
