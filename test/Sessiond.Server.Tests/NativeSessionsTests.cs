using System.Net;
using System.Text.Json;
using Sessiond.Client;
using Sessiond.Core.Events;
using Sessiond.Core.Sessions;
using Shouldly;

namespace Sessiond.Server.Tests;

public sealed class NativeSessionsTests(SessiondServer server) : IClassFixture<SessiondServer>
{
    private readonly HttpClient _http = server.Http;
    private readonly SessiondClient _client = server.Client;

    [Fact]
    public async Task Create_answers_201_with_location_and_stores_initial_state_without_an_event()
    {
        var app = SessiondServer.NewId("app");
        var response = await _http.PostJsonAsync("/v1/sessions",
            $$$"""{"appName":"{{{app}}}","userId":"u1","title":"hello","state":{"k":1,"user:pref":"dark","app:motd":"hi","temp:x":true},"metadata":{"m":"v"}}""");

        var session = await response.ShouldBeJsonAsync(HttpStatusCode.Created);
        var id = session.GetProperty("id").GetString()!;
        id.ShouldStartWith("ses_");
        response.Headers.Location!.ToString().ShouldBe($"/v1/sessions/{id}");
        session.GetProperty("appName").GetString().ShouldBe(app);
        session.GetProperty("scope").GetString().ShouldBe("user");
        session.GetProperty("status").GetString().ShouldBe("idle");
        session.GetProperty("lastSeq").GetInt64().ShouldBe(0);
        session.GetProperty("title").GetString().ShouldBe("hello");
        var state = session.GetProperty("state");
        state.GetProperty("k").GetInt32().ShouldBe(1);
        state.GetProperty("user:pref").GetString().ShouldBe("dark");
        state.GetProperty("app:motd").GetString().ShouldBe("hi");
        state.TryGetProperty("temp:x", out _).ShouldBeFalse();

        var read = await _client.GetSessionAsync(id);
        read.Events.ShouldBeEmpty();
        read.Session.State["k"].GetInt32().ShouldBe(1);
    }

    [Fact]
    public async Task Create_with_a_taken_id_answers_409_session_exists()
    {
        var id = SessiondServer.NewId("s");
        await _client.CreateSessionAsync(new CreateSessionCommand { AppName = "a", UserId = "u", Id = id });

        var response = await _http.PostJsonAsync("/v1/sessions", $$"""{"appName":"a","userId":"u","id":"{{id}}"}""");

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "session_exists");
    }

    [Fact]
    public async Task Append_assigns_seq_id_and_timestamp_and_folds_state()
    {
        var session = await _client.CreateSessionAsync(new CreateSessionCommand { AppName = SessiondServer.NewId("app"), UserId = "u" });

        var response = await _http.PostJsonAsync($"/v1/sessions/{session.Id}/events", """
            {"events":[
              {"author":"user","content":{"role":"user","parts":[{"text":"hi"}]}},
              {"author":"bot","content":{"role":"model","parts":[{"text":"hello"}]},"actions":{"stateDelta":{"a":1,"temp:t":2}},"usage":{"inputTokens":3,"outputTokens":4,"cost":0.5}}
            ]}
            """);

        var body = await response.ShouldBeJsonAsync(HttpStatusCode.Created);
        body.GetProperty("lastSeq").GetInt64().ShouldBe(2);
        var events = body.GetProperty("events").EnumerateArray().ToList();
        events.Select(e => e.GetProperty("seq").GetInt64()).ShouldBe([1L, 2L]);
        events.ShouldAllBe(e => e.GetProperty("id").GetString()!.StartsWith("evt_"));
        events.ShouldAllBe(e => e.GetProperty("timestamp").GetString()!.EndsWith('Z'));
        events[1].GetProperty("actions").GetProperty("stateDelta").TryGetProperty("temp:t", out _).ShouldBeFalse();

        var read = await _client.GetSessionAsync(session.Id);
        read.Session.LastSeq.ShouldBe(2);
        read.Session.State["a"].GetInt32().ShouldBe(1);
        read.Session.Usage.ShouldBe(new EventUsage(3, 4, 0.5m));
        read.Events.Select(e => e.Content!.Parts![0].Text).ShouldBe(["hi", "hello"]);
    }

    [Fact]
    public async Task A_mismatched_expectedLastSeq_answers_409_with_both_values_and_changes_nothing()
    {
        var session = await _client.CreateSessionAsync(new CreateSessionCommand { AppName = "a", UserId = "u" });
        await _client.AppendEventsAsync(session.Id, [Text("one")]);

        var response = await _http.PostJsonAsync($"/v1/sessions/{session.Id}/events",
            """{"expectedLastSeq":0,"events":[{"author":"user","actions":{"stateDelta":{"x":1}}}]}""");

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Conflict, "seq_conflict");
        problem.GetProperty("expectedLastSeq").GetInt64().ShouldBe(0);
        problem.GetProperty("actualLastSeq").GetInt64().ShouldBe(1);
        var read = await _client.GetSessionAsync(session.Id);
        read.Session.LastSeq.ShouldBe(1);
        read.Session.State.ContainsKey("x").ShouldBeFalse();
    }

    [Fact]
    public async Task If_match_is_the_header_form_of_expectedLastSeq()
    {
        var session = await _client.CreateSessionAsync(new CreateSessionCommand { AppName = "a", UserId = "u" });
        using var stale = new HttpRequestMessage(HttpMethod.Post, $"/v1/sessions/{session.Id}/events")
        {
            Content = new StringContent("""{"events":[{"author":"user"}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        stale.Headers.TryAddWithoutValidation("If-Match", "\"3\"");

        await (await _http.SendAsync(stale)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "seq_conflict");

        using var fresh = new HttpRequestMessage(HttpMethod.Post, $"/v1/sessions/{session.Id}/events")
        {
            Content = new StringContent("""{"events":[{"author":"user"}]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        fresh.Headers.TryAddWithoutValidation("If-Match", "\"0\"");
        (await _http.SendAsync(fresh)).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_repeated_idempotency_key_returns_the_first_answer_and_writes_nothing()
    {
        var session = await _client.CreateSessionAsync(new CreateSessionCommand { AppName = "a", UserId = "u" });

        var first = await _client.AppendEventsAsync(session.Id, [Text("once")], idempotencyKey: "key-1");
        var again = await _client.AppendEventsAsync(session.Id, [Text("once")], idempotencyKey: "key-1");

        again.LastSeq.ShouldBe(first.LastSeq);
        again.Events.Select(e => e.Id).ShouldBe(first.Events.Select(e => e.Id));
        (await _client.GetSessionAsync(session.Id)).Session.LastSeq.ShouldBe(1);

        var reused = await Should.ThrowAsync<SessiondApiException>(
            () => _client.AppendEventsAsync(session.Id, [Text("different")], idempotencyKey: "key-1"));
        reused.Code.ShouldBe("idempotency_key_reused");
        reused.Status.ShouldBe(HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task Get_selects_all_none_or_recent_events_and_pages_with_afterSeq()
    {
        var session = await _client.CreateSessionAsync(new CreateSessionCommand { AppName = "a", UserId = "u" });
        await _client.AppendEventsAsync(session.Id, [.. Enumerable.Range(1, 5).Select(i => Text($"m{i}"))]);

        (await _client.GetSessionAsync(session.Id, "none")).Events.ShouldBeEmpty();
        (await _client.GetSessionAsync(session.Id, "recent", limit: 2)).Events.Select(e => e.Seq).ShouldBe([4L, 5L]);
        var page = await _client.GetSessionAsync(session.Id, "all", limit: 2, afterSeq: 1);
        page.Events.Select(e => e.Seq).ShouldBe([2L, 3L]);
        page.NextAfterSeq.ShouldBe(3);

        var events = await _client.ReadEventsAsync(session.Id, afterSeq: 3, limit: 10);
        events.Events.Select(e => e.Seq).ShouldBe([4L, 5L]);
        events.NextAfterSeq.ShouldBeNull();
    }

    [Fact]
    public async Task List_filters_orders_by_updatedAt_and_pages_with_a_cursor()
    {
        var app = SessiondServer.NewId("app");
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await _client.CreateSessionAsync(new CreateSessionCommand { AppName = app, UserId = "lister" })).Id);
        }

        await _client.CreateSessionAsync(new CreateSessionCommand { AppName = app, UserId = "someone-else" });
        await _client.AppendEventsAsync(ids[0], [Text("bump")]);
        await _client.UpdateSessionAsync(ids[1], new UpdateSessionCommand { Starred = true });

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await _client.ListSessionsAsync(new SessionListQuery { AppName = app, UserId = "lister", Limit = 2, Cursor = cursor });
            page.Sessions.Count.ShouldBeLessThanOrEqualTo(2);
            seen.AddRange(page.Sessions.Select(s => s.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        seen.Count.ShouldBe(5);
        seen.ShouldBeUnique();
        seen.Take(2).ShouldBe([ids[1], ids[0]]);
        (await _client.ListSessionsAsync(new SessionListQuery { AppName = app, Starred = true })).Sessions.Single().Id.ShouldBe(ids[1]);
    }

    [Fact]
    public async Task Patch_changes_title_starred_and_metadata_but_not_state()
    {
        var session = await _client.CreateSessionAsync(new CreateSessionCommand
        {
            AppName = "a", UserId = "u", Metadata = new() { ["keep"] = JsonSerializer.SerializeToElement(1), ["drop"] = JsonSerializer.SerializeToElement(2) },
        });

        var response = await _http.PatchJsonAsync($"/v1/sessions/{session.Id}",
            """{"title":"renamed","starred":true,"metadata":{"drop":null,"add":"x"},"state":{"ignored":1}}""");

        var patched = await response.ShouldBeJsonAsync(HttpStatusCode.OK);
        patched.GetProperty("title").GetString().ShouldBe("renamed");
        patched.GetProperty("starred").GetBoolean().ShouldBeTrue();
        var metadata = patched.GetProperty("metadata");
        metadata.GetProperty("keep").GetInt32().ShouldBe(1);
        metadata.GetProperty("add").GetString().ShouldBe("x");
        metadata.TryGetProperty("drop", out _).ShouldBeFalse();
        patched.GetProperty("state").TryGetProperty("ignored", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task Delete_answers_204_then_404()
    {
        var session = await _client.CreateSessionAsync(new CreateSessionCommand { AppName = "a", UserId = "u" });

        (await _http.DeleteAsync($"/v1/sessions/{session.Id}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        await (await _http.GetAsync($"/v1/sessions/{session.Id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        await (await _http.DeleteAsync($"/v1/sessions/{session.Id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
    }

    [Fact]
    public async Task Apps_and_scoped_state_are_readable()
    {
        var app = SessiondServer.NewId("app");
        var session = await _client.CreateSessionAsync(new CreateSessionCommand { AppName = app, UserId = "u" });
        await _http.PostJsonAsync($"/v1/sessions/{session.Id}/events",
            """{"events":[{"author":"user","actions":{"stateDelta":{"app:version":2,"user:theme":"dark"}}}]}""");

        var apps = await (await _http.GetAsync("/v1/apps")).ShouldBeJsonAsync(HttpStatusCode.OK);
        apps.GetProperty("apps").EnumerateArray().Select(a => a.GetString()).ShouldContain(app);
        var appState = await (await _http.GetAsync($"/v1/apps/{app}/state")).ShouldBeJsonAsync(HttpStatusCode.OK);
        appState.GetProperty("state").GetProperty("app:version").GetInt32().ShouldBe(2);
        var userState = await (await _http.GetAsync($"/v1/apps/{app}/users/u/state")).ShouldBeJsonAsync(HttpStatusCode.OK);
        userState.GetProperty("state").GetProperty("user:theme").GetString().ShouldBe("dark");
    }

    [Fact]
    public async Task Health_endpoints_answer()
    {
        (await _http.GetAsync("/healthz")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var ready = await (await _http.GetAsync("/readyz")).ShouldBeJsonAsync(HttpStatusCode.OK);
        ready.GetProperty("status").GetString().ShouldBe("ready");
    }

    private static SessionEvent Text(string text) => new()
    {
        Author = "user",
        Content = new EventContent { Role = "user", Parts = [new EventPart { Text = text }] },
    };
}
