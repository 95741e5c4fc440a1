using System.Net;
using System.Text.Json;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>ADK's agent runs (<c>/run</c>, <c>/run_sse</c>) on the runtime, at the root and under <c>/api</c>.</summary>
public sealed class AdkRunTests(AdkAgentsServer server) : IClassFixture<AdkAgentsServer>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http = server.Http;

    private async Task<string> CreateSessionAsync(string app, string user, string prefix = "")
    {
        var id = SessiondServer.NewId("run");
        (await _http.PostJsonAsync($"{prefix}/apps/{app}/users/{user}/sessions", $$"""{"sessionId":"{{id}}"}""")).StatusCode.ShouldBe(HttpStatusCode.OK);
        return id;
    }

    private static string RunBody(string app, string user, string sessionId, string text, string extra = "") =>
        $$"""{"appName":"{{app}}","userId":"{{user}}","sessionId":"{{sessionId}}","newMessage":{"role":"user","parts":[{"text":"{{text}}"}]}{{extra}}}""";

    private static string TextOf(JsonElement evt) =>
        string.Concat(evt.GetProperty("content").GetProperty("parts").EnumerateArray()
            .Select(p => p.TryGetProperty("text", out var t) ? t.GetString() : ""));

    private async Task<List<JsonElement>> RunSseAsync(string body, string prefix = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{prefix}/run_sse") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        using var frames = new AdkDataFrames(await response.Content.ReadAsStreamAsync());
        return await frames.ToEndAsync().WaitForAsync(Timeout, "the run_sse stream to end with the turn");
    }

    [Theory]
    [InlineData("")]
    [InlineData("/api")]
    public async Task Run_answers_the_user_event_and_the_model_events_in_ADK_shape(string prefix)
    {
        var user = SessiondServer.NewId("u");
        var id = await CreateSessionAsync("echo", user, prefix);

        var events = await (await _http.PostJsonAsync($"{prefix}/run", RunBody("echo", user, id, "hello there world")))
            .ShouldBeJsonAsync(HttpStatusCode.OK);

        var list = events.EnumerateArray().ToList();
        list.Count.ShouldBe(2);
        list[0].GetProperty("author").GetString().ShouldBe("user");
        TextOf(list[0]).ShouldBe("hello there world");
        list[1].GetProperty("author").GetString().ShouldBe("root");
        list[1].GetProperty("content").GetProperty("role").GetString().ShouldBe("model");
        TextOf(list[1]).ShouldBe("hello there world");
        list[1].GetProperty("turnComplete").GetBoolean().ShouldBeTrue();
        foreach (var evt in list)
        {
            evt.GetProperty("timestamp").ValueKind.ShouldBe(JsonValueKind.Number);
            evt.GetProperty("timestamp").GetDouble().ShouldBeGreaterThan(1_700_000_000);
            evt.GetProperty("invocationId").GetString().ShouldBe(list[0].GetProperty("invocationId").GetString());
            evt.TryGetProperty("seq", out _).ShouldBeFalse();
            evt.TryGetProperty("usage", out _).ShouldBeFalse();
        }
    }

    [Fact]
    public async Task Run_accepts_snake_case_fields_as_ADK_does()
    {
        var user = SessiondServer.NewId("u");
        var id = await CreateSessionAsync("echo", user);

        var events = await (await _http.PostJsonAsync("/run",
            $$$"""{"app_name":"echo","user_id":"{{{user}}}","session_id":"{{{id}}}","new_message":{"role":"user","parts":[{"text":"snake"}]},"state_delta":{"k":1}}"""))
            .ShouldBeJsonAsync(HttpStatusCode.OK);

        events.GetArrayLength().ShouldBe(2);
        events[0].GetProperty("actions").GetProperty("stateDelta").GetProperty("k").GetInt32().ShouldBe(1);
    }

    [Theory]
    [InlineData("/run")]
    [InlineData("/run_sse")]
    [InlineData("/api/run")]
    public async Task A_missing_session_is_404_with_ADKs_detail(string path)
    {
        var missing = SessiondServer.NewId("none");

        var body = await (await _http.PostJsonAsync(path, RunBody("echo", "u", missing, "hi"))).ShouldBeJsonAsync(HttpStatusCode.NotFound);

        body.GetProperty("detail").GetString().ShouldBe($"Session not found: {missing}");
    }

    [Fact]
    public async Task A_session_named_under_another_user_or_app_is_not_found()
    {
        var id = await CreateSessionAsync("echo", "owner");

        (await _http.PostJsonAsync("/run", RunBody("echo", "intruder", id, "hi"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await _http.PostJsonAsync("/run", RunBody(AdkAgentsServer.TeamApp, "owner", id, "hi"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        var session = await (await _http.GetAsync($"/apps/echo/users/owner/sessions/{id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        session.GetProperty("events").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task An_app_without_agents_is_404_and_nothing_is_recorded()
    {
        var app = SessiondServer.NewId("noagents");
        var id = await CreateSessionAsync(app, "u");

        var body = await (await _http.PostJsonAsync("/run", RunBody(app, "u", id, "hi"))).ShouldBeJsonAsync(HttpStatusCode.NotFound);

        body.GetProperty("detail").GetString()!.ShouldStartWith($"App not found: {app}");
        var session = await (await _http.GetAsync($"/apps/{app}/users/u/sessions/{id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        session.GetProperty("events").GetArrayLength().ShouldBe(0);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/api")]
    public async Task Run_sse_with_streaming_sends_partials_that_add_up_to_the_final_event(string prefix)
    {
        var user = SessiondServer.NewId("u");
        var id = await CreateSessionAsync("echo", user, prefix);

        var frames = await RunSseAsync(RunBody("echo", user, id, "one two three four", ""","streaming":true"""), prefix);

        frames[0].GetProperty("author").GetString().ShouldBe("user");
        var partials = frames.Where(f => f.TryGetProperty("partial", out var p) && p.GetBoolean()).ToList();
        partials.Count.ShouldBeGreaterThan(1);
        var final = frames[^1];
        final.GetProperty("turnComplete").GetBoolean().ShouldBeTrue();
        (!final.TryGetProperty("partial", out var finalPartial) || !finalPartial.GetBoolean()).ShouldBeTrue();
        string.Concat(partials.Select(TextOf)).ShouldBe(TextOf(final));
        TextOf(final).ShouldBe("one two three four");
        frames.IndexOf(final).ShouldBeGreaterThan(frames.IndexOf(partials[^1]));
        partials.ShouldAllBe(p => p.GetProperty("timestamp").ValueKind == JsonValueKind.Number);
    }

    [Fact]
    public async Task Run_sse_without_streaming_sends_only_the_recorded_events()
    {
        var user = SessiondServer.NewId("u");
        var id = await CreateSessionAsync("echo", user);

        var frames = await RunSseAsync(RunBody("echo", user, id, "quiet please"));

        frames.Count.ShouldBe(2);
        frames.Where(f => f.TryGetProperty("partial", out var p) && p.GetBoolean()).ShouldBeEmpty();
        TextOf(frames[1]).ShouldBe("quiet please");
    }

    [Fact]
    public async Task The_state_delta_is_recorded_on_the_user_event_and_shows_in_the_session_state()
    {
        var user = SessiondServer.NewId("u");
        var id = await CreateSessionAsync("echo", user);

        var events = await (await _http.PostJsonAsync("/run", RunBody("echo", user, id, "remember", ""","stateDelta":{"mood":"happy","user:lang":"fr"}""")))
            .ShouldBeJsonAsync(HttpStatusCode.OK);

        var delta = events[0].GetProperty("actions").GetProperty("stateDelta");
        delta.GetProperty("mood").GetString().ShouldBe("happy");
        var session = await (await _http.GetAsync($"/apps/echo/users/{user}/sessions/{id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        session.GetProperty("state").GetProperty("mood").GetString().ShouldBe("happy");
        session.GetProperty("state").GetProperty("user:lang").GetString().ShouldBe("fr");
    }

    [Fact]
    public async Task The_events_a_run_answers_are_the_events_the_session_then_holds()
    {
        var user = SessiondServer.NewId("u");
        var id = await CreateSessionAsync("echo", user);

        var first = await (await _http.PostJsonAsync("/run", RunBody("echo", user, id, "first"))).ShouldBeJsonAsync(HttpStatusCode.OK);
        var second = await RunSseAsync(RunBody("echo", user, id, "second"));

        var session = await (await _http.GetAsync($"/apps/echo/users/{user}/sessions/{id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        session.GetProperty("events").EnumerateArray().Select(e => e.GetRawText())
            .ShouldBe(first.EnumerateArray().Concat(second).Select(e => e.GetRawText()));
    }

    [Fact]
    public async Task A_busy_session_is_409_until_its_turn_ends()
    {
        var user = SessiondServer.NewId("u");
        var id = await CreateSessionAsync(AdkAgentsServer.SlowApp, user);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/run_sse")
        {
            Content = new StringContent(RunBody(AdkAgentsServer.SlowApp, user, id, "take your time", ""","streaming":true"""), System.Text.Encoding.UTF8, "application/json"),
        };
        using var running = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var frames = new AdkDataFrames(await running.Content.ReadAsStreamAsync());
        var userEvent = await frames.NextAsync().WaitForAsync(Timeout, "the slow turn's user event");
        userEvent!.Value.GetProperty("author").GetString().ShouldBe("user");

        var busy = await (await _http.PostJsonAsync("/run", RunBody(AdkAgentsServer.SlowApp, user, id, "me too"))).ShouldBeJsonAsync(HttpStatusCode.Conflict);
        busy.GetProperty("detail").GetString()!.ShouldContain("one turn runs at a time");
        busy.GetProperty("code").GetString().ShouldBe("session_busy");

        (await _http.PostAsync($"/v1/sessions/{id}/cancel", null)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var rest = await frames.ToEndAsync().WaitForAsync(Timeout, "the cancelled turn's stream to end");
        rest[^1].GetProperty("interrupted").GetBoolean().ShouldBeTrue();
        var session = await (await _http.GetAsync($"/apps/{AdkAgentsServer.SlowApp}/users/{user}/sessions/{id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        session.GetProperty("events").EnumerateArray().Count(e => e.GetProperty("author").GetString() == "user").ShouldBe(1);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"appName":"echo","userId":"U","newMessage":{"role":"user","parts":[{"text":"x"}]}}""")]
    [InlineData("""{"appName":"echo","userId":"U","sessionId":"S"}""")]
    [InlineData("""{"appName":"echo","userId":"U","sessionId":"S","newMessage":"just text"}""")]
    [InlineData("""{"appName":"echo","userId":"U","sessionId":"S","newMessage":{"role":"user","parts":[]}}""")]
    [InlineData("""{"appName":"echo","userId":"U","sessionId":"S","newMessage":{"role":"user","parts":[{}]}}""")]
    [InlineData("""{"appName":"echo","userId":"U","sessionId":"S","newMessage":{"role":"user","parts":"x"}}""")]
    [InlineData("""{"appName":"echo","userId":"U","sessionId":"S","newMessage":{"role":"user","parts":[{"text":"x"}]},"stateDelta":[1]}""")]
    [InlineData("""{"appName":7,"userId":"U","sessionId":"S","newMessage":{"role":"user","parts":[{"text":"x"}]}}""")]
    [InlineData("""{"appName":"echo","userId":"U","sessionId":"S","newMessage":{"role":"user","parts":[{"text":"x"}]},"streaming":"yes"}""")]
    public async Task Malformed_bodies_are_422_and_record_nothing(string template)
    {
        var user = SessiondServer.NewId("u");
        var id = await CreateSessionAsync("echo", user);
        var body = template.Replace("\"U\"", $"\"{user}\"", StringComparison.Ordinal).Replace("\"S\"", $"\"{id}\"", StringComparison.Ordinal);

        foreach (var path in new[] { "/run", "/run_sse" })
        {
            var answer = await (await _http.PostJsonAsync(path, body)).ShouldBeJsonAsync(HttpStatusCode.UnprocessableEntity);
            answer.GetProperty("detail").GetString().ShouldNotBeNullOrEmpty();
        }

        var session = await (await _http.GetAsync($"/apps/echo/users/{user}/sessions/{id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        session.GetProperty("events").GetArrayLength().ShouldBe(0);
        var status = await (await _http.GetAsync($"/v1/sessions/{id}/status")).ShouldBeJsonAsync(HttpStatusCode.OK);
        status.GetProperty("status").GetString().ShouldBe("idle");
    }

    [Fact]
    public async Task A_session_list_labels_a_titled_session_with_its_title_without_storing_it()
    {
        var user = SessiondServer.NewId("u");
        var id = await CreateSessionAsync("echo", user);
        var labelled = SessiondServer.NewId("own");
        await _http.PostJsonAsync($"/apps/echo/users/{user}/sessions", $$$$"""{"sessionId":"{{{{labelled}}}}","state":{"__session_metadata__":{"displayName":"Mine"}}}""");
        var before = await (await _http.GetAsync($"/apps/echo/users/{user}/sessions/{id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        before.GetProperty("state").TryGetProperty("__session_metadata__", out _).ShouldBeFalse();

        await _http.PostJsonAsync("/run", RunBody("echo", user, id, "Plan a trip to Lisbon"));

        var list = await (await _http.GetAsync($"/apps/echo/users/{user}/sessions")).ShouldBeJsonAsync(HttpStatusCode.OK);
        string LabelOf(string sessionId) => list.EnumerateArray().Single(s => s.GetProperty("id").GetString() == sessionId)
            .GetProperty("state").GetProperty("__session_metadata__").GetProperty("displayName").GetString()!;
        LabelOf(id).ShouldBe("Plan a trip to Lisbon");
        LabelOf(labelled).ShouldBe("Mine");
        var native = await server.Client.GetSessionAsync(id);
        native.Session.State.ContainsKey("__session_metadata__").ShouldBeFalse();
    }
}
