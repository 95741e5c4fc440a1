using System.Net;
using System.Text;
using System.Text.Json;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>Writes and checks shared by the stream tests: sessions, bursts of appends, and reading a stream's ids.</summary>
public static class StreamTestHelpers
{
    /// <summary>Creates a session for <paramref name="userId"/> in <paramref name="appName"/> and returns its id.</summary>
    public static async Task<string> CreateSessionAsync(HttpClient http, string appName, string userId = "u1", string? id = null)
    {
        var idField = id is null ? "" : $",\"id\":\"{id}\"";
        using var response = await http.PostJsonAsync("/v1/sessions", $$"""{"appName":"{{appName}}","userId":"{{userId}}"{{idField}}}""");
        var session = await response.ShouldBeJsonAsync(HttpStatusCode.Created);
        return session.GetProperty("id").GetString()!;
    }

    /// <summary>Appends <paramref name="count"/> user events with about <paramref name="textBytes"/> of text each; returns the new last seq.</summary>
    public static async Task<long> AppendAsync(HttpClient http, string sessionId, int count, int textBytes = 8, CancellationToken cancellationToken = default)
    {
        var text = new string('x', textBytes);
        var body = new StringBuilder("{\"events\":[");
        for (var i = 0; i < count; i++)
        {
            body.Append(i == 0 ? "" : ",").Append("{\"author\":\"user\",\"content\":{\"role\":\"user\",\"parts\":[{\"text\":\"").Append(text).Append("\"}]}}");
        }

        body.Append("]}");
        using var content = new StringContent(body.ToString(), Encoding.UTF8, "application/json");
        using var response = await http.PostAsync($"/v1/sessions/{sessionId}/events", content, cancellationToken);
        var answer = await response.Content.ReadAsStringAsync(cancellationToken);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, answer);
        return JsonDocument.Parse(answer).RootElement.GetProperty("lastSeq").GetInt64();
    }

    /// <summary>The session's last seq, from a plain read.</summary>
    public static async Task<long> LastSeqAsync(HttpClient http, string sessionId)
    {
        using var response = await http.GetAsync($"/v1/sessions/{sessionId}?events=none");
        return (await response.ShouldBeJsonAsync(HttpStatusCode.OK)).GetProperty("lastSeq").GetInt64();
    }

    /// <summary>Every stored event's id by seq, read page by page.</summary>
    public static async Task<Dictionary<long, string>> StoredEventIdsAsync(HttpClient http, string sessionId)
    {
        var ids = new Dictionary<long, string>();
        long? after = 0;
        while (after is { } afterSeq)
        {
            using var response = await http.GetAsync($"/v1/sessions/{sessionId}/events?afterSeq={afterSeq}&limit=10000");
            var page = await response.ShouldBeJsonAsync(HttpStatusCode.OK);
            foreach (var evt in page.GetProperty("events").EnumerateArray())
            {
                ids.Add(evt.GetProperty("seq").GetInt64(), evt.GetProperty("id").GetString()!);
            }

            after = page.TryGetProperty("nextAfterSeq", out var next) && next.ValueKind == JsonValueKind.Number ? next.GetInt64() : null;
        }

        return ids;
    }

    /// <summary>
    /// Reads frames until an <c>event</c> frame with an id of at least <paramref name="lastSeq"/> arrives, checking that each
    /// event frame's data carries the seq of its id, and returns the event ids in the order they came. Other frames
    /// (status, delta, comments) are passed to <paramref name="other"/>.
    /// </summary>
    public static async Task<List<long>> ReadEventsThroughAsync(
        this SseClient client, long lastSeq, TimeSpan? timeout = null, Action<SseFrame>? other = null, Action<SseFrame>? onEvent = null)
    {
        var ids = new List<long>();
        if (lastSeq <= 0)
        {
            return ids;
        }

        var deadline = DateTime.UtcNow + (timeout ?? SseClient.DefaultTimeout);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var frame = await client.NextAsync(
                $"the event frame with id {lastSeq} ({ids.Count} event frames received, the last {(ids.Count > 0 ? ids[^1] : 0)})",
                left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            if (frame.Event != "event")
            {
                other?.Invoke(frame);
                continue;
            }

            var seq = frame.Seq;
            frame.Json.GetProperty("seq").GetInt64().ShouldBe(seq, $"the data of the frame with id {seq}");
            onEvent?.Invoke(frame);
            ids.Add(seq);
            if (seq >= lastSeq)
            {
                return ids;
            }
        }
    }

    /// <summary>Asserts that <paramref name="ids"/> is exactly 1..<paramref name="n"/> in order, describing the first difference.</summary>
    public static void ShouldBeOneThrough(this IReadOnlyList<long> ids, long n, string who)
    {
        for (var i = 0; i < ids.Count && i < n; i++)
        {
            if (ids[i] != i + 1)
            {
                var around = string.Join(", ", ids.Skip(Math.Max(0, i - 3)).Take(8));
                throw new ShouldAssertException(
                    $"{who}: expected ids 1..{n} in order, but position {i} holds {ids[i]} instead of {i + 1} (around it: {around}); "
                    + $"{ids.Count} ids received, {ids.Count - ids.Distinct().Count()} duplicated, {n - ids.Where(id => id >= 1 && id <= n).Distinct().Count()} of 1..{n} missing.");
            }
        }

        if (ids.Count != n)
        {
            throw new ShouldAssertException(
                $"{who}: expected ids 1..{n} in order, but received {ids.Count} ids (the last {(ids.Count > 0 ? ids[^1] : 0)}).");
        }
    }
}
