using System.Diagnostics;
using System.Text;

namespace Sessiond.Load.Seed;

/// <summary>
/// <c>http</c>: seeds a running server over its native API, with concurrent requests, for the load scenarios (c) to (f),
/// then reads each seeded shape back once to check that the scenarios measure what they claim.
/// </summary>
internal static class HttpSeeder
{
    public static async Task<int> RunAsync(CommandLine options, CancellationToken cancellationToken)
    {
        var workers = options.Int("workers", 32);
        var appendSessions = options.Int("append-sessions", 1000);
        var bigEvents = options.Int("big-events", 10_000);
        var batchSize = options.Int("batch", 500);
        var listSessions = options.Int("list-sessions", 100_000);
        using var http = LoadHttp.Create(options.Required("url"), workers);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellationToken };
        var total = Stopwatch.StartNew();

        // (c) and (d): empty sessions, so the sum of their lastSeq afterwards is the number of committed appends.
        var step = Stopwatch.StartNew();
        await Parallel.ForAsync(0, appendSessions, parallel, async (i, token) =>
            await LoadHttp.PostAsync(http, "/v1/sessions", CreateBody(LoadData.AppendSessionId(i), LoadData.AppendUser), token));
        await LoadHttp.PostAsync(http, "/v1/sessions", CreateBody(LoadData.HotSessionId, LoadData.HotUser), cancellationToken);
        Output.Value("seed.append_sessions", appendSessions);
        Output.Seconds("seed.append_sessions_seconds", step);

        // (e): one session, its history appended in order, in batches.
        step.Restart();
        await LoadHttp.PostAsync(http, "/v1/sessions", CreateBody(LoadData.BigSessionId, LoadData.BigUser), cancellationToken);
        for (var appended = 0; appended < bigEvents; appended += batchSize)
        {
            var count = Math.Min(batchSize, bigEvents - appended);
            await LoadHttp.PostAsync(http, $"/v1/sessions/{LoadData.BigSessionId}/events", AppendBody(count, appended), cancellationToken);
        }

        Output.Value("seed.big_events", bigEvents);
        Output.Seconds("seed.big_seconds", step);

        // (f): one user with many sessions; the server picks their ids.
        step.Restart();
        var listBody = $$"""{"appName":"{{LoadData.App}}","userId":"{{LoadData.ListUser}}","title":"Load harness session"}""";
        var created = 0;
        await Parallel.ForAsync(0, listSessions, parallel, async (_, token) =>
        {
            await LoadHttp.PostAsync(http, "/v1/sessions", listBody, token);
            if (Interlocked.Increment(ref created) % 20_000 == 0)
            {
                Output.Progress($"seed: {created} of {listSessions} list sessions");
            }
        });
        Output.Value("seed.list_sessions", listSessions);
        Output.Seconds("seed.list_seconds", step);
        Output.Seconds("seed.seconds", total);

        await CheckAsync(http, bigEvents, cancellationToken);
        return 0;
    }

    private static async Task CheckAsync(HttpClient http, int bigEvents, CancellationToken cancellationToken)
    {
        var (native, nativeBytes) = await LoadHttp.GetJsonAsync(http, $"/v1/sessions/{LoadData.BigSessionId}", cancellationToken);
        using (native)
        {
            Require(native.RootElement.GetProperty("events").GetArrayLength() == bigEvents, $"the native read of {LoadData.BigSessionId} returns {bigEvents} events");
            Require(!native.RootElement.TryGetProperty("nextAfterSeq", out _), "the native read returns the whole history in one response");
        }

        var (adk, adkBytes) = await LoadHttp.GetJsonAsync(
            http, $"/apps/{LoadData.App}/users/{LoadData.BigUser}/sessions/{LoadData.BigSessionId}", cancellationToken);
        using (adk)
        {
            Require(adk.RootElement.GetProperty("events").GetArrayLength() == bigEvents, $"the ADK read of {LoadData.BigSessionId} returns {bigEvents} events");
        }

        var (page, pageBytes) = await LoadHttp.GetJsonAsync(
            http, $"/v1/sessions?appName={LoadData.App}&userId={LoadData.ListUser}", cancellationToken);
        using (page)
        {
            Require(page.RootElement.GetProperty("sessions").GetArrayLength() == 50, "the first list page holds the default 50 sessions");
        }

        Output.Value("check.big_native_bytes", nativeBytes);
        Output.Value("check.big_adk_bytes", adkBytes);
        Output.Value("check.list_page_bytes", pageBytes);
    }

    private static string CreateBody(string id, string userId) =>
        $$"""{"id":"{{id}}","appName":"{{LoadData.App}}","userId":"{{userId}}"}""";

    private static string AppendBody(int count, long expectedLastSeq)
    {
        var body = new StringBuilder(64 + (count * (LoadData.SampleEventJson.Length + 1)));
        body.Append("{\"expectedLastSeq\":").Append(expectedLastSeq).Append(",\"events\":[");
        for (var i = 0; i < count; i++)
        {
            body.Append(i == 0 ? "" : ",").Append(LoadData.SampleEventJson);
        }

        return body.Append("]}").ToString();
    }

    private static void Require(bool condition, string expectation)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"Seed check failed: expected {expectation}.");
        }
    }
}
