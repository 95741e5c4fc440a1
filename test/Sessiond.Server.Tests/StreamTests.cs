using System.Globalization;
using System.Net;
using Shouldly;
using static Sessiond.Server.Tests.StreamTestHelpers;

namespace Sessiond.Server.Tests;

/// <summary>
/// Live SSE streams on real Kestrel, read by a real SSE client: <c>/v1/sessions/{id}/stream</c>, the snapshot, partial
/// deltas and the user feed <c>/v1/stream</c>. Every stream check asserts that a client's event ids are exactly 1..N.
/// </summary>
public sealed class StreamTests(SessiondServer server) : IClassFixture<SessiondServer>
{
    private readonly HttpClient _http = server.Http;

    [Fact]
    public async Task A_stream_replays_stored_events_then_sends_the_status_then_tails_live_events()
    {
        var id = await CreateSessionAsync(_http, SessiondServer.NewId("app"));
        await AppendAsync(_http, id, 3);

        await using var client = await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream");

        client.Response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        client.Response.Headers.CacheControl!.NoCache.ShouldBeTrue();
        client.Response.Headers.GetValues("X-Accel-Buffering").ShouldBe(["no"]);
        var replay = await client.ReadUntilAsync(f => f.Event == "status", "the status frame after the replay");
        replay.Where(f => !f.IsComment).Select(f => (f.Event, f.Id)).ShouldBe([("event", "1"), ("event", "2"), ("event", "3"), ("status", null)]);
        replay[0].Json.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString().ShouldBe("xxxxxxxx");
        replay[^1].Json.GetProperty("status").GetString().ShouldBe("idle");

        await AppendAsync(_http, id, 2);
        var live = await client.ReadEventsThroughAsync(5);
        live.ShouldBe([4, 5]);
        client.LastEventId.ShouldBe("5");
    }

    [Fact]
    public async Task Clients_reconnecting_with_Last_Event_ID_in_the_middle_of_bursts_receive_every_seq_exactly_once()
    {
        const int Clients = 3;
        const int Connections = 7;
        var id = await CreateSessionAsync(_http, SessiondServer.NewId("app"));
        using var stopWriting = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            // Bursts of 1-25 events, back to back, until every client has done its reconnects.
            for (var n = 0; !stopWriting.IsCancellationRequested; n++)
            {
                await AppendAsync(_http, id, 1 + (n * 7 % 25));
            }
        });

        async Task<List<long>> ReconnectingClientAsync(int client)
        {
            var random = new Random(client);
            var ids = new List<long>();
            for (var connection = 0; connection < Connections; connection++)
            {
                var stream = connection == 0
                    ? await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream")
                    : await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream", lastEventId: ids[^1].ToString(CultureInfo.InvariantCulture));
                await using (stream)
                {
                    // Hang up after a random number of events, mid-replay or mid-tail, while the writer keeps appending.
                    var wanted = random.Next(10, 150);
                    for (var received = 0; received < wanted;)
                    {
                        var frame = await stream.NextAsync($"event {received + 1} of {wanted} on connection {connection} of client {client}");
                        if (frame.Event == "event")
                        {
                            ids.Add(frame.Seq);
                            received++;
                        }
                    }
                }

                // Frames parsed before the hang-up were received too; the next connection resumes after the last of them.
                while (stream.Frames.TryRead(out var left))
                {
                    if (left.Event == "event")
                    {
                        ids.Add(left.Seq);
                    }
                }

                stream.LastEventId.ShouldBe(ids[^1].ToString(CultureInfo.InvariantCulture));
            }

            return ids;
        }

        var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(() => ReconnectingClientAsync(c))).ToArray();
        var received = await Task.WhenAll(clients);
        writer.IsCompleted.ShouldBeFalse("the writer must still be appending while the clients reconnect");
        await stopWriting.CancelAsync();
        await writer;
        var lastSeq = await LastSeqAsync(_http, id);

        for (var c = 0; c < Clients; c++)
        {
            // The last reconnect resumes from the last id received, as an EventSource would after the final hang-up.
            await using var final = await SseClient.ConnectAsync(
                _http, $"/v1/sessions/{id}/stream", lastEventId: received[c][^1].ToString(CultureInfo.InvariantCulture));
            var rest = received[c][^1] < lastSeq ? await final.ReadEventsThroughAsync(lastSeq) : [];
            received[c].Concat(rest).ToList().ShouldBeOneThrough(lastSeq, $"client {c} over {Connections + 1} connections");
        }
    }

    [Fact]
    public async Task Deleting_a_session_ends_its_open_streams_with_an_end_frame_and_the_feed_shows_deleted()
    {
        var app = SessiondServer.NewId("app");
        var id = await CreateSessionAsync(_http, app, "alice");
        await AppendAsync(_http, id, 3);
        await using var feed = await SseClient.ConnectAsync(_http, $"/v1/stream?appName={app}&userId=alice");
        await using var fromStart = await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream");
        await using var fromTwo = await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream?after=2");
        (await fromStart.ReadEventsThroughAsync(3)).ShouldBeOneThrough(3, "the stream from the start");
        (await fromTwo.ReadEventsThroughAsync(3)).ShouldBe([3]);

        (await _http.DeleteAsync($"/v1/sessions/{id}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        foreach (var client in (SseClient[])[fromStart, fromTwo])
        {
            var frames = await client.ReadUntilAsync(f => f.Event == "end", "event: end after the delete");
            frames.ShouldNotContain(f => f.Event == "event", "no event frames follow the last one before the delete");
            frames[^1].Id.ShouldBeNull();
            frames[^1].Json.GetProperty("reason").GetString().ShouldBe("deleted");
            await client.WaitForCloseAsync("the stream must close after event: end");
        }

        var notices = await feed.ReadUntilAsync(f => f.Event == "deleted", "the feed's deleted notice");
        var deleted = notices[^1];
        deleted.Json.GetProperty("sessionId").GetString().ShouldBe(id);
        deleted.Json.GetProperty("lastSeq").GetInt64().ShouldBe(3);
        deleted.Seq.ShouldBeGreaterThan(0);

        using var again = await SseClient.SendAsync(_http, $"/v1/sessions/{id}/stream");
        await again.ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
    }

    [Fact]
    public async Task Partial_events_arrive_as_delta_frames_without_id_and_are_never_stored()
    {
        var app = SessiondServer.NewId("app");
        var id = await CreateSessionAsync(_http, app, "alice");
        await using var client = await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream");
        await client.ReadUntilAsync(f => f.Event == "status", "the status frame after the (empty) replay");

        using var accepted = await _http.PostJsonAsync($"/v1/sessions/{id}/events", """
            {"events":[{"partial":true,"author":"agent","content":{"role":"model","parts":[{"text":"Hel"}]}},
                       {"partial":true,"author":"agent","content":{"role":"model","parts":[{"text":"Hello"}]}}]}
            """);
        var body = await accepted.ShouldBeJsonAsync(HttpStatusCode.Accepted);
        body.TryGetProperty("lastSeq", out _).ShouldBeFalse();
        foreach (var evt in body.GetProperty("events").EnumerateArray())
        {
            evt.TryGetProperty("seq", out _).ShouldBeFalse("a partial event has no seq");
            evt.GetProperty("partial").GetBoolean().ShouldBeTrue();
        }

        var deltas = new List<SseFrame>();
        while (deltas.Count < 2)
        {
            var frame = await client.NextAsync($"delta frame {deltas.Count + 1} of 2");
            if (!frame.IsComment)
            {
                deltas.Add(frame);
            }
        }

        deltas.ShouldAllBe(f => f.Event == "delta" && f.Id == null);
        deltas.Select(f => f.Json.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString()).ShouldBe(["Hel", "Hello"]);
        foreach (var delta in deltas)
        {
            delta.Json.TryGetProperty("seq", out _).ShouldBeFalse("a delta has no seq");
            delta.Json.GetProperty("partial").GetBoolean().ShouldBeTrue();
        }

        client.LastEventId.ShouldBeNull("a delta carries no id to resume from");

        // The final event of the step is stored as seq 1; the deltas left nothing behind.
        (await AppendAsync(_http, id, 1)).ShouldBe(1);
        (await client.ReadEventsThroughAsync(1)).ShouldBe([1]);
        using var mixed = await _http.PostJsonAsync($"/v1/sessions/{id}/events", """{"events":[{"partial":true},{"author":"user"}]}""");
        await mixed.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        using var native = await _http.GetAsync($"/v1/sessions/{id}");
        var session = await native.ShouldBeJsonAsync(HttpStatusCode.OK);
        session.GetProperty("lastSeq").GetInt64().ShouldBe(1);
        session.GetProperty("events").GetArrayLength().ShouldBe(1);
        session.GetProperty("events")[0].TryGetProperty("partial", out _).ShouldBeFalse();
        using var adk = await _http.GetAsync($"/apps/{app}/users/alice/sessions/{id}");
        (await adk.ShouldBeJsonAsync(HttpStatusCode.OK)).GetProperty("events").GetArrayLength().ShouldBe(1);

        using var unknown = await _http.PostJsonAsync($"/v1/sessions/{SessiondServer.NewId("missing")}/events", """{"events":[{"partial":true}]}""");
        await unknown.ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
    }

    [Fact]
    public async Task A_snapshot_then_a_stream_after_its_lastSeq_misses_nothing_while_events_keep_arriving()
    {
        var id = await CreateSessionAsync(_http, SessiondServer.NewId("app"));
        await AppendAsync(_http, id, 20);
        using var stopWriting = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            while (!stopWriting.IsCancellationRequested)
            {
                await AppendAsync(_http, id, 5);
            }
        });

        using var response = await _http.GetAsync($"/v1/sessions/{id}/snapshot");
        var snapshot = await response.ShouldBeJsonAsync(HttpStatusCode.OK);
        var lastSeq = snapshot.GetProperty("lastSeq").GetInt64();
        lastSeq.ShouldBeGreaterThanOrEqualTo(20);
        snapshot.GetProperty("status").GetString().ShouldBe("idle");
        snapshot.GetProperty("session").GetProperty("id").GetString().ShouldBe(id);
        snapshot.GetProperty("session").GetProperty("lastSeq").GetInt64().ShouldBe(lastSeq);

        await using var client = await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream?after={lastSeq}");
        var ids = await client.ReadEventsThroughAsync(lastSeq + 50);
        await stopWriting.CancelAsync();
        await writer;
        var finalSeq = await LastSeqAsync(_http, id);
        if (finalSeq > ids[^1])
        {
            ids.AddRange(await client.ReadEventsThroughAsync(finalSeq));
        }

        using var before = await _http.GetAsync($"/v1/sessions/{id}/events?limit={lastSeq}");
        var stored = (await before.ShouldBeJsonAsync(HttpStatusCode.OK)).GetProperty("events").EnumerateArray().Select(e => e.GetProperty("seq").GetInt64());
        stored.Concat(ids).ToList().ShouldBeOneThrough(finalSeq, "the snapshot's events then the stream after its lastSeq");
    }

    [Fact]
    public async Task Last_Event_ID_takes_precedence_over_after()
    {
        var id = await CreateSessionAsync(_http, SessiondServer.NewId("app"));
        await AppendAsync(_http, id, 10);

        await using var both = await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream?after=2", lastEventId: "7");
        (await both.ReadEventsThroughAsync(10)).ShouldBe([8, 9, 10]);
        await using var afterOnly = await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream?after=2");
        (await afterOnly.ReadEventsThroughAsync(10)).ShouldBe([3, 4, 5, 6, 7, 8, 9, 10]);
    }

    [Theory]
    [InlineData("?after=abc", null)]
    [InlineData("?after=-1", null)]
    [InlineData("?after=1.5", null)]
    [InlineData("?after=1&after=2", null)]
    [InlineData("", "-1")]
    [InlineData("", "abc")]
    [InlineData("?after=3", "x7")]
    public async Task A_bad_cursor_answers_400_problem_before_the_stream_starts(string query, string? lastEventId)
    {
        var app = SessiondServer.NewId("app");
        var id = await CreateSessionAsync(_http, app, "alice");

        using var stream = await SseClient.SendAsync(_http, $"/v1/sessions/{id}/stream{query}", lastEventId);
        await stream.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        var feedQuery = query.Length == 0 ? "" : "&" + query[1..];
        using var feed = await SseClient.SendAsync(_http, $"/v1/stream?appName={app}&userId=alice{feedQuery}", lastEventId);
        await feed.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
    }

    [Theory]
    [InlineData("/v1/stream?userId=alice")]
    [InlineData("/v1/stream?appName=notes")]
    [InlineData("/v1/stream?appName=not%20an%20id&userId=alice")]
    public async Task A_feed_without_a_valid_app_and_user_answers_400_problem(string path)
    {
        using var response = await SseClient.SendAsync(_http, path);
        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task An_unknown_session_answers_404_problem_for_its_stream_and_snapshot()
    {
        foreach (var id in (string[])[SessiondServer.NewId("missing"), "not%20an%20id"])
        {
            using var stream = await SseClient.SendAsync(_http, $"/v1/sessions/{id}/stream");
            await stream.ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
            using var resumed = await SseClient.SendAsync(_http, $"/v1/sessions/{id}/stream", lastEventId: "3");
            await resumed.ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
            using var snapshot = await _http.GetAsync($"/v1/sessions/{id}/snapshot");
            await snapshot.ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        }
    }

    [Fact]
    public async Task The_user_feed_shows_created_updated_and_deleted_with_ids_resumes_and_keeps_other_users_out()
    {
        var app = SessiondServer.NewId("app");
        await using var alice = await SseClient.ConnectAsync(_http, $"/v1/stream?appName={app}&userId=alice");
        await using var bob = await SseClient.ConnectAsync(_http, $"/v1/stream?appName={app}&userId=bob");

        var mine = await CreateSessionAsync(_http, app, "alice");
        var theirs = await CreateSessionAsync(_http, app, "bob");
        await AppendAsync(_http, mine, 2);
        using (var patched = await _http.PatchJsonAsync($"/v1/sessions/{mine}", """{"title":"renamed"}"""))
        {
            patched.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        (await _http.DeleteAsync($"/v1/sessions/{mine}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await AppendAsync(_http, theirs, 1);

        var live = Notices(await alice.ReadUntilAsync(f => f.Event == "deleted", "alice's deleted notice"));
        live.Select(n => n.Event).ShouldBe(["created", "updated", "updated", "deleted"]);
        live.ShouldAllBe(n => n.Json.GetProperty("sessionId").GetString() == mine && n.Json.GetProperty("userId").GetString() == "alice");
        live.Select(n => n.Seq).ShouldBeInOrder(SortDirection.Ascending);
        live.Select(n => n.Seq).Distinct().Count().ShouldBe(4);
        live.Select(n => n.Json.GetProperty("id").GetInt64()).ShouldBe(live.Select(n => n.Seq));
        live[1].Json.GetProperty("lastSeq").GetInt64().ShouldBe(2);
        live[2].Json.GetProperty("title").GetString().ShouldBe("renamed");

        // Bob's feed holds his session only, though Alice's notices were committed between his two.
        var bobs = Notices(await bob.ReadUntilAsync(f => f.Event == "updated", "bob's updated notice"));
        bobs.Select(n => (n.Event, n.Json.GetProperty("sessionId").GetString())).ShouldBe([("created", theirs), ("updated", theirs)]);

        await using var resumed = await SseClient.ConnectAsync(_http, $"/v1/stream?appName={app}&userId=alice", live[0].Id);
        Notices(await resumed.ReadUntilAsync(f => f.Event == "deleted", "alice's deleted notice after resuming"))
            .Select(n => n.Id).ShouldBe(live.Skip(1).Select(n => n.Id));
        await using var resumedByQuery = await SseClient.ConnectAsync(_http, $"/v1/stream?appName={app}&userId=alice&after={live[1].Id}");
        Notices(await resumedByQuery.ReadUntilAsync(f => f.Event == "deleted", "alice's deleted notice after ?after="))
            .Select(n => n.Id).ShouldBe(live.Skip(2).Select(n => n.Id));
        await using var replayed = await SseClient.ConnectAsync(_http, $"/v1/stream?appName={app}&userId=alice");
        Notices(await replayed.ReadUntilAsync(f => f.Event == "deleted", "alice's deleted notice replayed from the start"))
            .Select(n => (n.Id, n.Event)).ShouldBe(live.Select(n => (n.Id, n.Event)));
    }

    [Fact]
    public async Task An_event_seen_in_a_stream_is_visible_in_an_ADK_read_made_after_it()
    {
        const int Total = 600;
        var app = SessiondServer.NewId("app");
        var id = await CreateSessionAsync(_http, app, "alice");
        await using var client = await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream");
        var writer = Task.Run(async () =>
        {
            for (var written = 0; written < Total; written += 3)
            {
                await AppendAsync(_http, id, 3);
            }
        });

        var checkedReads = 0;
        var ids = new List<long>();
        while (ids.Count == 0 || ids[^1] < Total)
        {
            var frame = await client.NextAsync($"event {ids.Count + 1} of {Total}");
            if (frame.Event != "event")
            {
                continue;
            }

            ids.Add(frame.Seq);
            if (frame.Seq % 25 == 0)
            {
                using var response = await _http.GetAsync($"/apps/{app}/users/alice/sessions/{id}");
                var events = (await response.ShouldBeJsonAsync(HttpStatusCode.OK)).GetProperty("events");
                events.GetArrayLength().ShouldBeGreaterThanOrEqualTo((int)frame.Seq, $"the ADK read made after seq {frame.Seq} arrived");
                events[(int)frame.Seq - 1].GetProperty("id").GetString().ShouldBe(frame.Json.GetProperty("id").GetString());
                checkedReads++;
            }
        }

        await writer;
        ids.ShouldBeOneThrough(Total, "the stream read alongside ADK reads");
        checkedReads.ShouldBe(Total / 25);
    }

    private static List<SseFrame> Notices(List<SseFrame> frames) => frames.Where(f => !f.IsComment).ToList();
}
