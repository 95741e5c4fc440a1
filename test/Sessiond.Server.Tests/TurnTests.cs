using System.Net;
using System.Text.Json;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>Turns through the native API on real Kestrel: streaming, tools, approvals, steer, follow-ups, cancel and errors.</summary>
public sealed class TurnTests(RuntimeServer server) : IClassFixture<RuntimeServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private HttpClient Http => server.Http;

    [Fact]
    public async Task An_echo_turn_streams_deltas_then_stores_the_reply_and_titles_the_session()
    {
        var id = await StreamTestHelpers.CreateSessionAsync(Http, "echo", SessiondServer.NewId("u"));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/sessions/{id}/turns")
        {
            Content = new StringContent("""{"input":"hello streamed world"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("text/event-stream");

        using var response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
        var frames = ParseFrames(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        frames.Select(f => f.Event).ShouldBe(["status", "event", "delta", "delta", "delta", "event", "status", "turn_end"]);
        string.Concat(frames.Where(f => f.Event == "delta").Select(f => f.Json.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString()))
            .ShouldBe("hello streamed world");
        var reply = frames.Where(f => f.Event == "event").Last().Json;
        reply.GetProperty("turnComplete").GetBoolean().ShouldBeTrue();
        reply.GetProperty("author").GetString().ShouldBe("root");
        frames[^1].Json.GetProperty("status").GetString().ShouldBe("idle");
        var session = await (await Http.GetAsync($"v1/sessions/{id}?events=none", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK);
        session.GetProperty("title").GetString().ShouldBe("hello streamed world");
        session.GetProperty("status").GetString().ShouldBe("idle");
        session.GetProperty("lastSeq").GetInt64().ShouldBe(2);
    }

    [Fact]
    public async Task A_tool_that_asks_pauses_the_turn_until_a_second_client_approves_it()
    {
        var id = await StreamTestHelpers.CreateSessionAsync(Http, "approve", SessiondServer.NewId("u"));
        await using var stream = await SseClient.ConnectAsync(Http, $"v1/sessions/{id}/stream");

        (await Http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"set it"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await stream.ReadUntilAsync(f => f.Event == "status" && f.Data.Contains("waiting"), "the waiting status");

        var status = await (await Http.GetAsync($"v1/sessions/{id}/status", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK);
        status.GetProperty("status").GetString().ShouldBe("waiting");
        var pending = status.GetProperty("pendingApprovals").EnumerateArray().Single();
        pending.GetProperty("name").GetString().ShouldBe("set_state");
        var callId = pending.GetProperty("toolCallId").GetString()!;
        var events = await EventsAsync(id);
        events.Any(e => e.TryGetProperty("content", out var c) && c.GetRawText().Contains("functionCall")).ShouldBeFalse("no call is stored before it is approved");
        events[^1].GetProperty("actions").GetProperty("requestedToolConfirmations").TryGetProperty(callId, out _).ShouldBeTrue();

        using var second = new HttpClient { BaseAddress = server.BaseAddress };
        var approval = await (await second.PostJsonAsync($"v1/sessions/{id}/approvals", $$"""{"toolCallId":"{{callId}}","decision":"approve"}"""))
            .ShouldBeJsonAsync(HttpStatusCode.OK);
        approval.GetProperty("status").GetString().ShouldBe("resumed");
        await stream.ReadUntilAsync(f => f.Event == "status" && f.Data.Contains("idle"), "the idle status after the approval");

        var session = await (await Http.GetAsync($"v1/sessions/{id}?events=all", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK);
        session.GetProperty("state").GetProperty("color").GetString().ShouldBe("blue");
        session.GetProperty("usage").GetProperty("cost").GetDecimal().ShouldBeGreaterThan(0m);
        var stored = session.GetProperty("events").EnumerateArray().ToList();
        var call = stored.FindIndex(e => e.TryGetProperty("content", out var content) && content.GetRawText().Contains("\"functionCall\""));
        stored[call + 1].GetRawText().ShouldContain("\"functionResponse\"");
        stored[call + 1].GetProperty("actions").GetProperty("stateDelta").GetProperty("color").GetString().ShouldBe("blue");
        stored[^1].GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString().ShouldBe("The color is blue.");
    }

    [Fact]
    public async Task Rejecting_a_call_tells_the_model_and_changes_no_state_and_approve_always_allows_the_tool_later()
    {
        var id = await StreamTestHelpers.CreateSessionAsync(Http, "approve", SessiondServer.NewId("u"));
        var callId = await StartAndAwaitApprovalAsync(id);

        await (await Http.PostJsonAsync($"v1/sessions/{id}/approvals", $$"""{"toolCallId":"{{callId}}","decision":"reject","reason":"no"}"""))
            .ShouldBeJsonAsync(HttpStatusCode.OK);
        await WaitForStatusAsync(id, "idle");

        var session = await (await Http.GetAsync($"v1/sessions/{id}?events=all", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK);
        session.GetProperty("state").TryGetProperty("color", out _).ShouldBeFalse();
        session.GetProperty("events").GetRawText().ShouldContain("rejected");

        var secondCall = await StartAndAwaitApprovalAsync(id);
        await (await Http.PostJsonAsync($"v1/sessions/{id}/approvals", $$"""{"toolCallId":"{{secondCall}}","decision":"approve_always"}"""))
            .ShouldBeJsonAsync(HttpStatusCode.OK);
        await WaitForStatusAsync(id, "idle");
        (await Http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"again"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var final = await WaitForStatusAsync(id, "idle");
        final.GetProperty("permissions").GetProperty("allow").EnumerateArray().Select(e => e.GetString()).ShouldBe(["set_state"]);
    }

    [Fact]
    public async Task Bad_approvals_are_refused_and_record_nothing()
    {
        var id = await StreamTestHelpers.CreateSessionAsync(Http, "approve", SessiondServer.NewId("u"));
        var callId = await StartAndAwaitApprovalAsync(id);
        var before = (await EventsAsync(id)).Count;

        await (await Http.PostJsonAsync($"v1/sessions/{id}/approvals", $$"""{"toolCallId":"{{callId}}","decision":"maybe"}"""))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await Http.PostJsonAsync($"v1/sessions/{id}/approvals", """{"toolCallId":"nope","decision":"approve"}"""))
            .ShouldBeProblemAsync(HttpStatusCode.NotFound, "approval_not_found");
        await (await Http.PostJsonAsync($"v1/sessions/{id}/approvals", """{"decision":"approve"}"""))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await Http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"busy?"}"""))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict, "session_busy");

        (await EventsAsync(id)).Count.ShouldBe(before);
        (await Http.PostAsync($"v1/sessions/{id}/cancel", null, TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var cancelled = await WaitForStatusAsync(id, "idle");
        cancelled.GetProperty("lastSeq").GetInt64().ShouldBe(before + 1);
        (await EventsAsync(id))[^1].GetProperty("interrupted").GetBoolean().ShouldBeTrue();
    }

    [Fact]
    public async Task Two_turns_racing_on_one_session_let_exactly_one_start()
    {
        var id = await StreamTestHelpers.CreateSessionAsync(Http, "slow", SessiondServer.NewId("u"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"race"}""")));

        responses.Count(r => r.StatusCode == HttpStatusCode.Accepted).ShouldBe(1);
        await responses.Single(r => r.StatusCode == HttpStatusCode.Conflict).ShouldBeProblemAsync(HttpStatusCode.Conflict, "session_busy");
        await CancelAndWaitAsync(id);
    }

    [Fact]
    public async Task Cancel_in_the_middle_of_a_stream_stops_the_turn_and_records_the_partial_text_as_interrupted()
    {
        var id = await StreamTestHelpers.CreateSessionAsync(Http, "slow", SessiondServer.NewId("u"));
        await using var stream = await SseClient.ConnectAsync(Http, $"v1/sessions/{id}/stream");
        (await Http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"go"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await stream.ReadUntilAsync(f => f.Event == "delta", "the first delta");

        (await Http.PostAsync($"v1/sessions/{id}/cancel", null, TestContext.Current.CancellationToken)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var frames = await stream.ReadUntilAsync(f => f.Event == "status" && f.Data.Contains("idle"), "the idle status after cancel");

        var last = frames.Last(f => f.Event == "event").Json;
        last.GetProperty("interrupted").GetBoolean().ShouldBeTrue();
        var partial = last.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString()!;
        partial.ShouldStartWith("one ");
        partial.ShouldNotContain("twenty-five");
        (await EventsAsync(id)).ShouldNotContain(e => e.GetRawText().Contains("functionCall"));
    }

    [Fact]
    public async Task A_steer_is_injected_before_the_next_model_call()
    {
        var id = await StreamTestHelpers.CreateSessionAsync(Http, "slow", SessiondServer.NewId("u"));
        await using var stream = await SseClient.ConnectAsync(Http, $"v1/sessions/{id}/stream");
        (await Http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"go"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await stream.ReadUntilAsync(f => f.Event == "delta", "the first delta");

        (await Http.PostJsonAsync($"v1/sessions/{id}/steer", """{"input":"focus on ten"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await stream.ReadUntilAsync(f => f.Event == "status" && f.Data.Contains("idle"), "the end of the turn");

        var events = await EventsAsync(id);
        var steer = events.FindIndex(e => e.GetRawText().Contains("focus on ten"));
        steer.ShouldBeGreaterThan(events.FindIndex(e => e.GetRawText().Contains("\"functionResponse\"")));
        events[steer].GetProperty("metadata").GetProperty("steer").GetBoolean().ShouldBeTrue();
        events[^1].GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString().ShouldBe("finished");
        await (await Http.PostJsonAsync($"v1/sessions/{id}/steer", """{"input":"late"}""")).ShouldBeProblemAsync(HttpStatusCode.Conflict, "not_running");
    }

    [Fact]
    public async Task Twenty_followups_with_repeated_keys_each_run_exactly_once()
    {
        var id = await StreamTestHelpers.CreateSessionAsync(Http, "echo", SessiondServer.NewId("u"));
        await using var stream = await SseClient.ConnectAsync(Http, $"v1/sessions/{id}/stream");

        var sends = Enumerable.Range(0, 20).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/sessions/{id}/followups")
            {
                Content = new StringContent($$"""{"input":"followup {{i % 10}}"}""", System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Idempotency-Key", $"key-{i % 10}");
            var response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
            return (await response.ShouldBeJsonAsync(HttpStatusCode.Accepted)).GetProperty("status").GetString();
        });
        var statuses = await Task.WhenAll(sends);

        statuses.Count(s => s == "duplicate").ShouldBe(10);
        var replies = 0;
        await stream.ReadUntilAsync(f => f.Event == "event" && f.Json.TryGetProperty("turnComplete", out _) && ++replies == 10, "ten completed turns");
        await WaitForStatusAsync(id, "idle");
        var inputs = (await EventsAsync(id)).Where(e => e.GetProperty("author").GetString() == "user")
            .Select(e => e.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString()).ToList();
        inputs.Order().ShouldBe(Enumerable.Range(0, 10).Select(i => $"followup {i}"));
    }

    [Fact]
    public async Task A_busy_turn_with_mode_enqueue_runs_after_the_current_one()
    {
        var id = await StreamTestHelpers.CreateSessionAsync(Http, "slow", SessiondServer.NewId("u"));
        await using var stream = await SseClient.ConnectAsync(Http, $"v1/sessions/{id}/stream");
        (await Http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"first"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);

        var queued = await (await Http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"second","mode":"enqueue","model":"quick"}"""))
            .ShouldBeJsonAsync(HttpStatusCode.Accepted);
        queued.GetProperty("status").GetString().ShouldBe("queued");
        (await (await Http.GetAsync($"v1/sessions/{id}/status", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK))
            .GetProperty("followupQueue").GetInt32().ShouldBe(1);
        await stream.ReadUntilAsync(f => f.Event == "event" && f.Data.Contains("\"second\""), "the queued input");
        await stream.ReadUntilAsync(f => f.Event == "status" && f.Data.Contains("idle"), "the end of the queued turn");
    }

    [Fact]
    public async Task Temp_state_lives_for_the_turn_only()
    {
        var id = await StreamTestHelpers.CreateSessionAsync(Http, "temp", SessiondServer.NewId("u"));
        (await Http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"go"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var session = await WaitForStatusAsync(id, "idle");

        session.GetProperty("state").GetProperty("kept").GetString().ShouldBe("yes");
        session.GetProperty("state").TryGetProperty("temp:scratch", out _).ShouldBeFalse();
        var read = (await EventsAsync(id)).Single(e => e.GetRawText().Contains("\"functionResponse\"") && e.GetRawText().Contains("get_state"));
        read.GetProperty("content").GetProperty("parts")[0].GetProperty("functionResponse").GetProperty("response").GetProperty("value").GetInt32().ShouldBe(42);
        (await EventsAsync(id)).Where(e => e.TryGetProperty("actions", out _)).ShouldAllBe(e => !e.GetProperty("actions").GetRawText().Contains("temp:"));
    }

    [Theory]
    [InlineData("failing", "model_rate_limited", "failed")]
    [InlineData("looping", "max_iterations", "failed")]
    public async Task A_failing_turn_ends_with_an_error_event_and_the_next_turn_may_start(string app, string code, string status)
    {
        var id = await StreamTestHelpers.CreateSessionAsync(Http, app, SessiondServer.NewId("u"));
        (await Http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"go"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await WaitForStatusAsync(id, status);

        (await EventsAsync(id))[^1].GetProperty("errorCode").GetString().ShouldBe(code);
        (await Http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"again"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task A_denied_tool_is_answered_with_an_error_and_changes_nothing()
    {
        var id = await StreamTestHelpers.CreateSessionAsync(Http, "denied", SessiondServer.NewId("u"));
        (await Http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"go"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var session = await WaitForStatusAsync(id, "idle");

        session.GetProperty("state").TryGetProperty("color", out _).ShouldBeFalse();
        (await EventsAsync(id)).ShouldContain(e => e.GetRawText().Contains("denied by this session"));
    }

    [Theory]
    [InlineData("""{"input":"x","model":"nope"}""", HttpStatusCode.BadRequest, "unknown_model")]
    [InlineData("""{"input":"x","agent":"nope"}""", HttpStatusCode.BadRequest, "unknown_agent")]
    [InlineData("""{"input":""}""", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData("""{"input":42}""", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData("""{"input":[{"text":1}]}""", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData("""{"input":"x","mode":"later"}""", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData("""{"input":"x""", HttpStatusCode.BadRequest, "invalid_request")]
    public async Task Bad_turn_requests_are_refused_before_anything_is_recorded(string body, HttpStatusCode status, string code)
    {
        var id = await StreamTestHelpers.CreateSessionAsync(Http, "echo", SessiondServer.NewId("u"));

        await (await Http.PostJsonAsync($"v1/sessions/{id}/turns", body)).ShouldBeProblemAsync(status, code);

        var session = await (await Http.GetAsync($"v1/sessions/{id}?events=none", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK);
        session.GetProperty("lastSeq").GetInt64().ShouldBe(0);
        session.GetProperty("status").GetString().ShouldBe("idle");
    }

    [Fact]
    public async Task Runtime_routes_answer_404_for_unknown_sessions_and_apps_without_agents_are_refused()
    {
        var missing = SessiondServer.NewId("missing");
        await (await Http.PostJsonAsync($"v1/sessions/{missing}/turns", """{"input":"x"}""")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        await (await Http.PostJsonAsync($"v1/sessions/{missing}/steer", """{"input":"x"}""")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        await (await Http.PostAsync($"v1/sessions/{missing}/cancel", null, TestContext.Current.CancellationToken)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        await (await Http.GetAsync($"v1/sessions/{missing}/status", TestContext.Current.CancellationToken)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        await (await Http.PostJsonAsync($"v1/sessions/{missing}/elicitations/e1", """{"action":"accept"}""")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");

        var plain = await StreamTestHelpers.CreateSessionAsync(Http, SessiondServer.NewId("no-agents"), "u");
        await (await Http.PostJsonAsync($"v1/sessions/{plain}/turns", """{"input":"x"}""")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "unknown_agent");
        await (await Http.PostJsonAsync($"v1/sessions/{plain}/elicitations/e1", """{"action":"maybe"}""")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await Http.PostJsonAsync($"v1/sessions/{plain}/elicitations/e1", """{"action":"accept"}""")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "elicitation_not_found");
        await (await Http.PostJsonAsync($"v1/sessions/{plain}/followups", """{"input":"x"}""")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "unknown_agent");
    }

    [Fact]
    public async Task The_agents_route_lists_an_apps_agents_with_their_models()
    {
        var agents = await (await Http.GetAsync("v1/apps/approve/agents", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK);

        var root = agents.GetProperty("agents").EnumerateArray().Single();
        root.GetProperty("name").GetString().ShouldBe("root");
        root.GetProperty("model").GetString().ShouldBe("demo");
        root.GetProperty("toolCount").GetInt32().ShouldBe(3);
        await (await Http.GetAsync("v1/apps/nothing-here/agents", TestContext.Current.CancellationToken)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    private async Task<string> StartAndAwaitApprovalAsync(string id)
    {
        (await Http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"set it"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await WaitForStatusAsync(id, "waiting");
        var status = await (await Http.GetAsync($"v1/sessions/{id}/status", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK);
        return status.GetProperty("pendingApprovals")[0].GetProperty("toolCallId").GetString()!;
    }

    private async Task CancelAndWaitAsync(string id)
    {
        await Http.PostAsync($"v1/sessions/{id}/cancel", null, TestContext.Current.CancellationToken);
        await WaitForStatusAsync(id, "idle");
    }

    /// <summary>Follows the session stream until its status is <paramref name="status"/>; returns the session then.</summary>
    private async Task<JsonElement> WaitForStatusAsync(string id, string status)
    {
        await using var stream = await SseClient.ConnectAsync(Http, $"v1/sessions/{id}/stream?after={await StreamTestHelpers.LastSeqAsync(Http, id)}");
        await stream.ReadUntilAsync(f => f.Event == "status" && f.Json.GetProperty("status").GetString() == status, $"status '{status}'", Wait);
        return await (await Http.GetAsync($"v1/sessions/{id}?events=none", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK);
    }

    private async Task<List<JsonElement>> EventsAsync(string id)
    {
        var body = await (await Http.GetAsync($"v1/sessions/{id}/events?limit=1000", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK);
        return [.. body.GetProperty("events").EnumerateArray()];
    }

    internal static List<SseFrame> ParseFrames(string body) =>
        [.. body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(block =>
        {
            string? id = null, name = null, data = "";
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("id: ", StringComparison.Ordinal)) { id = line[4..]; }
                else if (line.StartsWith("event: ", StringComparison.Ordinal)) { name = line[7..]; }
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) { data = line[6..]; }
            }

            return new SseFrame(id, name, data);
        })];
}
