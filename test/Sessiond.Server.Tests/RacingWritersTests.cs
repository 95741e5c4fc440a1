using System.Net;
using System.Text;
using System.Text.Json;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>
/// Many HTTP clients racing to append to one session with <c>expectedLastSeq</c>: no update may be lost, and the
/// session must end with seqs 1..N, no gap and no duplicate. Idempotency keys must turn duplicate deliveries into one event.
/// </summary>
public sealed class RacingWritersTests(SessiondServer server) : IClassFixture<SessiondServer>
{
    private const int Writers = 64;
    private const int MaxAttemptsPerIncrement = 5_000;

    private static readonly TimeSpan RaceTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Racing_writers_using_expectedLastSeq_lose_no_update_and_leave_no_gap()
    {
        const int increments = 10;
        var sessionId = await CreateSessionAsync();

        var conflicts = await RaceAsync(sessionId, increments, duplicateDelivery: false);

        await ShouldHoldEveryIncrementOnceAsync(sessionId, increments);
        TestContext.Current.TestOutputHelper?.WriteLine($"{Writers * increments} increments needed {conflicts} retries after seq_conflict.");
    }

    [Fact]
    public async Task Racing_writers_whose_every_request_is_delivered_twice_store_each_increment_once()
    {
        const int increments = 5;
        var sessionId = await CreateSessionAsync();

        var conflicts = await RaceAsync(sessionId, increments, duplicateDelivery: true);

        await ShouldHoldEveryIncrementOnceAsync(sessionId, increments);
        TestContext.Current.TestOutputHelper?.WriteLine($"{Writers * increments} increments needed {conflicts} retries after seq_conflict.");
    }

    [Fact]
    public async Task The_same_idempotency_key_sent_concurrently_stores_one_event()
    {
        const int keys = 32;
        const int copies = 4;
        var sessionId = await CreateSessionAsync();
        var clients = NewClients(keys * copies);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var sends = Enumerable.Range(0, keys * copies).Select(i => Task.Run(async () =>
        {
            await start.Task;
            var key = $"key-{i / copies}";
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sessions/{sessionId}/events")
            {
                Content = Json($$"""{"events":[{"author":"user","content":{"role":"user","parts":[{"text":"{{key}}"}]} }]}"""),
            };
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
            using var response = await clients[i].SendAsync(request);
            var body = await response.ShouldBeJsonAsync(HttpStatusCode.Created);
            var evt = body.GetProperty("events").EnumerateArray().Single();
            return (Key: key, Seq: evt.GetProperty("seq").GetInt64(), Id: evt.GetProperty("id").GetString()!,
                Replayed: response.Headers.Contains("Idempotent-Replayed"));
        })).ToArray();
        start.SetResult();
        var answers = await Task.WhenAll(sends).WaitForAsync(RaceTimeout, $"{keys * copies} concurrent appends under {keys} idempotency keys");
        DisposeAll(clients);

        foreach (var sameKey in answers.GroupBy(a => a.Key))
        {
            sameKey.Select(a => (a.Seq, a.Id)).Distinct().Count().ShouldBe(1, $"every copy under {sameKey.Key} answers the one stored event");
            sameKey.Count(a => !a.Replayed).ShouldBe(1, $"exactly one copy under {sameKey.Key} is the original");
        }

        using var session = JsonDocument.Parse(await server.Http.GetStringAsync($"/v1/sessions/{sessionId}"));
        var stored = session.RootElement.GetProperty("events").EnumerateArray().ToList();
        session.RootElement.GetProperty("lastSeq").GetInt64().ShouldBe(keys);
        stored.Select(e => e.GetProperty("seq").GetInt64()).ShouldBe(Enumerable.Range(1, keys).Select(s => (long)s));
        stored.Select(e => e.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString())
            .Order(StringComparer.Ordinal).ShouldBe(Enumerable.Range(0, keys).Select(k => $"key-{k}").Order(StringComparer.Ordinal));
        stored.Select(e => e.GetProperty("id").GetString()).ShouldBe(answers.OrderBy(a => a.Seq).Select(a => a.Id).Distinct());
    }

    /// <summary>
    /// Runs <see cref="Writers"/> clients, each doing <paramref name="increments"/> guarded read-modify-write increments:
    /// read lastSeq, append an event expecting it, and on <c>seq_conflict</c> retry from the <c>actualLastSeq</c> in the
    /// problem. With <paramref name="duplicateDelivery"/>, every append is sent twice at once under one Idempotency-Key,
    /// like a client retrying a request whose answer it never saw. Returns how many retries conflicts caused.
    /// </summary>
    private async Task<int> RaceAsync(string sessionId, int increments, bool duplicateDelivery)
    {
        var clients = NewClients(duplicateDelivery ? Writers * 2 : Writers);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var conflicts = 0;

        async Task WriteAsync(int writer)
        {
            await start.Task;
            for (var i = 0; i < increments; i++)
            {
                using var current = JsonDocument.Parse(await clients[writer].GetStringAsync($"/v1/sessions/{sessionId}?events=none"));
                var expected = current.RootElement.GetProperty("lastSeq").GetInt64();
                for (var attempt = 1; ; attempt++)
                {
                    attempt.ShouldBeLessThanOrEqualTo(MaxAttemptsPerIncrement, $"writer {writer} could not land increment {i}");
                    var body = $$"""
                        {"expectedLastSeq":{{expected}},"events":[{"id":"w{{writer}}-i{{i}}","author":"writer-{{writer}}",
                         "actions":{"stateDelta":{"counter":{{expected + 1}},"w{{writer}}":{{i + 1}}} } }]}
                        """;
                    var key = duplicateDelivery ? $"w{writer}-i{i}" : null;
                    var answers = duplicateDelivery
                        ? await Task.WhenAll(AppendAsync(clients[writer], sessionId, body, key), AppendAsync(clients[Writers + writer], sessionId, body, key))
                        : [await AppendAsync(clients[writer], sessionId, body, key)];

                    if (answers[0].Status == HttpStatusCode.Created)
                    {
                        answers.ShouldAllBe(a => a.Status == HttpStatusCode.Created, "both deliveries of one request succeed together");
                        answers.Select(a => a.Body.GetProperty("events")[0].GetProperty("seq").GetInt64()).ShouldAllBe(seq => seq == expected + 1);
                        answers.Select(a => a.Body.GetProperty("events")[0].GetProperty("id").GetString()).ShouldAllBe(id => id == $"w{writer}-i{i}");
                        answers.Count(a => !a.Replayed).ShouldBe(1, "one delivery is the original and any other its replay");
                        break;
                    }

                    foreach (var conflict in answers)
                    {
                        conflict.Status.ShouldBe(HttpStatusCode.Conflict, conflict.Body.ToString());
                        conflict.Body.GetProperty("code").GetString().ShouldBe("seq_conflict");
                        conflict.Body.GetProperty("expectedLastSeq").GetInt64().ShouldBe(expected);
                    }

                    var actual = answers.Min(a => a.Body.GetProperty("actualLastSeq").GetInt64());
                    actual.ShouldBeGreaterThan(expected);
                    expected = actual;
                    Interlocked.Increment(ref conflicts);
                }
            }
        }

        try
        {
            var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteAsync(w))).ToArray();
            start.SetResult();
            await Task.WhenAll(writers).WaitForAsync(RaceTimeout, $"{Writers} writers to land {increments} increments each");
            return conflicts;
        }
        finally
        {
            DisposeAll(clients);
        }
    }

    private async Task ShouldHoldEveryIncrementOnceAsync(string sessionId, int increments)
    {
        using var session = JsonDocument.Parse(await server.Http.GetStringAsync($"/v1/sessions/{sessionId}"));
        var root = session.RootElement;
        var events = root.GetProperty("events").EnumerateArray().ToList();

        root.GetProperty("lastSeq").GetInt64().ShouldBe(Writers * increments);
        events.Select(e => e.GetProperty("seq").GetInt64()).ShouldBe(Enumerable.Range(1, Writers * increments).Select(s => (long)s));
        events.Select(e => e.GetProperty("id").GetString()).ShouldBeUnique();
        foreach (var evt in events)
        {
            // Each increment read the counter it replaced: the value it wrote is exactly its own seq.
            evt.GetProperty("actions").GetProperty("stateDelta").GetProperty("counter").GetInt64().ShouldBe(evt.GetProperty("seq").GetInt64());
        }

        root.GetProperty("state").GetProperty("counter").GetInt64().ShouldBe(Writers * increments);
        for (var writer = 0; writer < Writers; writer++)
        {
            var mine = events.Where(e => e.GetProperty("author").GetString() == $"writer-{writer}").ToList();
            mine.Select(e => e.GetProperty("id").GetString()).ShouldBe(Enumerable.Range(0, increments).Select(i => $"w{writer}-i{i}"), $"writer {writer}'s increments, in order");
            root.GetProperty("state").GetProperty($"w{writer}").GetInt32().ShouldBe(increments);
        }
    }

    private async Task<string> CreateSessionAsync()
    {
        var id = SessiondServer.NewId("race");
        (await server.Http.PostAsync("/v1/sessions", Json($$"""{"id":"{{id}}","appName":"{{SessiondServer.NewId("app")}}","userId":"racer"}""")))
            .StatusCode.ShouldBe(HttpStatusCode.Created);
        return id;
    }

    private static async Task<Answer> AppendAsync(HttpClient http, string sessionId, string body, string? idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sessions/{sessionId}/events") { Content = Json(body) };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        using var response = await http.SendAsync(request);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return new Answer(response.StatusCode, document.RootElement.Clone(), response.Headers.Contains("Idempotent-Replayed"));
    }

    /// <summary>Separate clients, so every writer has its own connections.</summary>
    private HttpClient[] NewClients(int count) =>
        [.. Enumerable.Range(0, count).Select(_ => new HttpClient { BaseAddress = server.BaseAddress, Timeout = RaceTimeout })];

    private static void DisposeAll(HttpClient[] clients)
    {
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private sealed record Answer(HttpStatusCode Status, JsonElement Body, bool Replayed);
}
