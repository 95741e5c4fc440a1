using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>
/// <c>kill -9</c> of the server process during heavy appends: every acknowledged event must still be there after a
/// restart on the same data directory, with the same seq and id, and every session's seqs must run 1..lastSeq.
/// </summary>
public sealed class DurabilityTests : IDisposable
{
    private const int Writers = 16;
    private const int Sessions = 20;
    private const int AcknowledgedAppendsBeforeKill = 2_000;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(90);

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "sessiond-durability-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Every_acknowledged_append_survives_SIGKILL_during_heavy_appends()
    {
        await using var server = await ServerProcess.StartAsync(_dataDir, StartTimeout);
        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var sessionIds = new string[Sessions];
        for (var i = 0; i < Sessions; i++)
        {
            sessionIds[i] = SessiondServer.NewId("durable");
            (await http.PostAsync("/v1/sessions", Json($$"""{"id":"{{sessionIds[i]}}","appName":"durability","userId":"u{{i % 4}}"}""")))
                .StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        // Every append the writers attempt, and what the server acknowledged for those it acknowledged.
        var attempted = new ConcurrentDictionary<string, Append>();
        var acknowledged = new ConcurrentDictionary<string, StoredEvent[]>();
        var acknowledgedCount = 0;
        var inFlight = 0;
        var killed = false;
        var enoughAcknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task WriteAsync(int writer)
        {
            for (var n = 0; ; n++)
            {
                var append = NewAppend(writer, n, sessionIds[(writer * 7 + n) % Sessions]);
                attempted[append.Key] = append;
                HttpResponseMessage response;
                Interlocked.Increment(ref inFlight);
                try
                {
                    response = await SendAsync(http, append);
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException && Volatile.Read(ref killed))
                {
                    return; // the server is gone; this append may or may not have committed
                }
                finally
                {
                    Interlocked.Decrement(ref inFlight);
                }

                using (response)
                {
                    var body = await response.Content.ReadAsStringAsync();
                    response.StatusCode.ShouldBe(HttpStatusCode.Created, body);
                    var events = ParseAppended(body);
                    events.Select(e => e.Id).ShouldBe(append.EventIds);
                    acknowledged[append.Key] = events;
                }

                if (Interlocked.Increment(ref acknowledgedCount) == AcknowledgedAppendsBeforeKill)
                {
                    enoughAcknowledged.TrySetResult();
                }
            }
        }

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteAsync(w))).ToArray();
        await Task.WhenAny(enoughAcknowledged.Task, Task.WhenAll(writers))
            .WaitForAsync(WriteTimeout, $"{AcknowledgedAppendsBeforeKill} acknowledged appends (got {Volatile.Read(ref acknowledgedCount)})");
        enoughAcknowledged.Task.IsCompleted.ShouldBeTrue("a writer stopped before the kill: " + string.Join("; ", writers.Where(w => w.IsFaulted).Select(w => w.Exception!.InnerException!.Message)));

        var inFlightAtKill = Volatile.Read(ref inFlight);
        Volatile.Write(ref killed, true);
        await server.KillAsync(TimeSpan.FromSeconds(30));
        await Task.WhenAll(writers).WaitForAsync(TimeSpan.FromSeconds(60), "every writer to stop after the kill");
        inFlightAtKill.ShouldBeGreaterThan(0, "the kill should land while appends are in flight");

        await server.RestartAsync(StartTimeout);
        using var afterRestart = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var stored = await ReadAllAsync(afterRestart, sessionIds);

        // Every acknowledged event is there, with its seq and id; nothing is there that was not sent; no gaps.
        acknowledged.Count.ShouldBeGreaterThanOrEqualTo(AcknowledgedAppendsBeforeKill);
        foreach (var (key, events) in acknowledged)
        {
            var session = stored[attempted[key].SessionId];
            foreach (var evt in events)
            {
                session.Events.Length.ShouldBeGreaterThanOrEqualTo((int)evt.Seq, $"acknowledged seq {evt.Seq} of {key} is missing");
                session.Events[evt.Seq - 1].ShouldBe(evt, $"acknowledged event of {key}");
            }
        }

        var attemptedIds = attempted.Values.SelectMany(a => a.EventIds).ToHashSet();
        foreach (var (sessionId, session) in stored)
        {
            session.Events.Select(e => e.Seq).ShouldBe(Enumerable.Range(1, (int)session.LastSeq).Select(s => (long)s), $"seqs of {sessionId}");
            session.Events.Select(e => e.Id).ShouldBeUnique();
            session.Events.ShouldAllBe(e => attemptedIds.Contains(e.Id));
        }

        // An append commits whole or not at all: its events are all there, in a row, or none is.
        var storedById = stored.Values.SelectMany(s => s.Events.Select(e => (Session: s, Event: e))).ToDictionary(x => x.Event.Id, x => x.Event);
        foreach (var append in attempted.Values)
        {
            var found = append.EventIds.Where(storedById.ContainsKey).Select(id => storedById[id].Seq).ToArray();
            if (found.Length > 0)
            {
                found.ShouldBe(Enumerable.Range((int)found[0], append.EventIds.Length).Select(s => (long)s), $"events of {append.Key}");
            }
        }

        // Clients retry what was never acknowledged with the same Idempotency-Key: each append ends up stored exactly once.
        // Retrying acknowledged ones answers their first result, since the keys are durable too.
        var retries = attempted.Values.Where(a => !acknowledged.ContainsKey(a.Key))
            .Concat(acknowledged.Keys.Order(StringComparer.Ordinal).Take(50).Select(k => attempted[k]))
            .ToArray();
        foreach (var append in retries)
        {
            using var response = await SendAsync(afterRestart, append);
            var body = await response.Content.ReadAsStringAsync();
            response.StatusCode.ShouldBe(HttpStatusCode.Created, body);
            var events = ParseAppended(body);
            events.Select(e => e.Id).ShouldBe(append.EventIds);
            var wasStored = storedById.TryGetValue(append.EventIds[0], out var first);
            response.Headers.TryGetValues("Idempotent-Replayed", out var replayed).ShouldBe(wasStored, $"replay of {append.Key}");
            if (wasStored)
            {
                events[0].ShouldBe(first);
                replayed!.ShouldBe(["true"]);
            }
        }

        var final = await ReadAllAsync(afterRestart, sessionIds);
        foreach (var (sessionId, session) in final)
        {
            session.Events.Select(e => e.Seq).ShouldBe(Enumerable.Range(1, (int)session.LastSeq).Select(s => (long)s), $"seqs of {sessionId}");
            session.Events.Select(e => e.Id).ShouldBeUnique();
        }

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{acknowledged.Count} appends acknowledged, {inFlightAtKill} in flight at the kill, {attempted.Count - acknowledged.Count} unacknowledged " +
            $"of which {retries.Count(r => !acknowledged.ContainsKey(r.Key) && storedById.ContainsKey(r.EventIds[0]))} had committed; " +
            $"{final.Values.Sum(s => s.Events.Length)} events in {Sessions} sessions after the retries.");
        final.Values.Sum(s => s.Events.Length).ShouldBe(
            acknowledged.Keys.Concat(retries.Select(r => r.Key)).Distinct().Sum(k => attempted[k].EventIds.Length),
            "every acknowledged or retried append, once");
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    private static Append NewAppend(int writer, int n, string sessionId)
    {
        var key = $"w{writer}-{n}";
        var eventIds = Enumerable.Range(0, 1 + n % 3).Select(k => $"{key}-{k}").ToArray();
        var events = eventIds.Select(id =>
            $$"""{"id":"{{id}}","author":"user","content":{"role":"user","parts":[{"text":"append {{id}} of writer {{writer}}"}]},"actions":{"stateDelta":{"last-w{{writer}}": {{n}} } } }""");
        return new Append(key, sessionId, eventIds, $$"""{"events":[{{string.Join(',', events)}}]}""");
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, Append append)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sessions/{append.SessionId}/events") { Content = Json(append.Body) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", append.Key);
        return await http.SendAsync(request);
    }

    private static StoredEvent[] ParseAppended(string body)
    {
        using var document = JsonDocument.Parse(body);
        return [.. document.RootElement.GetProperty("events").EnumerateArray().Select(ToStored)];
    }

    private static StoredEvent ToStored(JsonElement evt) => new(evt.GetProperty("seq").GetInt64(), evt.GetProperty("id").GetString()!);

    /// <summary>Every session's lastSeq and all its events, read page by page.</summary>
    private static async Task<Dictionary<string, StoredSession>> ReadAllAsync(HttpClient http, IEnumerable<string> sessionIds)
    {
        var result = new Dictionary<string, StoredSession>();
        foreach (var sessionId in sessionIds)
        {
            using var session = JsonDocument.Parse(await http.GetStringAsync($"/v1/sessions/{sessionId}?events=none"));
            var events = new List<StoredEvent>();
            long? afterSeq = 0;
            while (afterSeq is { } after)
            {
                using var page = JsonDocument.Parse(await http.GetStringAsync($"/v1/sessions/{sessionId}/events?afterSeq={after}&limit=1000"));
                events.AddRange(page.RootElement.GetProperty("events").EnumerateArray().Select(ToStored));
                afterSeq = page.RootElement.TryGetProperty("nextAfterSeq", out var next) ? next.GetInt64() : null;
            }

            result[sessionId] = new StoredSession(session.RootElement.GetProperty("lastSeq").GetInt64(), [.. events]);
        }

        return result;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>One append a writer attempted: its idempotency key, target session, event ids and exact body.</summary>
    private sealed record Append(string Key, string SessionId, string[] EventIds, string Body);

    private sealed record StoredEvent(long Seq, string Id);

    private sealed record StoredSession(long LastSeq, StoredEvent[] Events);
}
