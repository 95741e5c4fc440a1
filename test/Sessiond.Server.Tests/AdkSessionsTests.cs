using System.Net;
using Sessiond.Core.Sessions;
using Shouldly;

namespace Sessiond.Server.Tests;

public sealed class AdkSessionsTests(SessiondServer server) : IClassFixture<SessiondServer>
{
    private readonly HttpClient _http = server.Http;

    [Theory]
    [InlineData("")]
    [InlineData("/api")]
    public async Task Create_get_list_and_delete_speak_ADK_shapes(string prefix)
    {
        var app = SessiondServer.NewId("app");
        var baseUrl = $"{prefix}/apps/{app}/users/alice/sessions";
        var id = SessiondServer.NewId("s");

        var created = await (await _http.PostJsonAsync(baseUrl, $$$"""{"sessionId":"{{{id}}}","state":{"k":"v"}}""")).ShouldBeJsonAsync(HttpStatusCode.OK);
        created.GetProperty("id").GetString().ShouldBe(id);
        created.EnumerateObject().Select(p => p.Name).ShouldBe(["id", "appName", "userId", "state", "events", "lastUpdateTime"]);
        created.GetProperty("appName").GetString().ShouldBe(app);
        created.GetProperty("userId").GetString().ShouldBe("alice");
        created.GetProperty("state").GetProperty("k").GetString().ShouldBe("v");
        created.GetProperty("events").GetArrayLength().ShouldBe(0);
        created.GetProperty("lastUpdateTime").GetDouble().ShouldBeGreaterThan(1_700_000_000);

        var got = await (await _http.GetAsync($"{baseUrl}/{id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        got.GetProperty("id").GetString().ShouldBe(id);

        var list = await (await _http.GetAsync(baseUrl)).ShouldBeJsonAsync(HttpStatusCode.OK);
        list.EnumerateArray().Select(s => s.GetProperty("id").GetString()).ShouldBe([id]);

        var deleted = await _http.DeleteAsync($"{baseUrl}/{id}");
        deleted.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await deleted.Content.ReadAsStringAsync()).ShouldBe("null");
        var missing = await _http.GetAsync($"{baseUrl}/{id}");
        var body = await missing.ShouldBeJsonAsync(HttpStatusCode.NotFound);
        body.GetProperty("detail").GetString().ShouldBe("Session not found");
    }

    [Fact]
    public async Task Create_accepts_snake_case_session_id_and_an_empty_body()
    {
        var app = SessiondServer.NewId("app");
        var id = SessiondServer.NewId("snake");
        var snake = await (await _http.PostJsonAsync($"/apps/{app}/users/u/sessions", $$"""{"session_id":"{{id}}"}""")).ShouldBeJsonAsync(HttpStatusCode.OK);
        snake.GetProperty("id").GetString().ShouldBe(id);

        var generated = await (await _http.PostAsync($"/apps/{app}/users/u/sessions", null)).ShouldBeJsonAsync(HttpStatusCode.OK);
        generated.GetProperty("id").GetString().ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task Create_with_id_in_the_path_takes_the_body_as_state_and_refuses_a_duplicate()
    {
        var app = SessiondServer.NewId("app");
        var url = $"/apps/{app}/users/u/sessions/{SessiondServer.NewId("fixed")}";

        var created = await (await _http.PostJsonAsync(url, """{"counter":1}""")).ShouldBeJsonAsync(HttpStatusCode.OK);
        created.GetProperty("state").GetProperty("counter").GetInt32().ShouldBe(1);

        var duplicate = await (await _http.PostJsonAsync(url, "{}")).ShouldBeJsonAsync(HttpStatusCode.Conflict);
        duplicate.GetProperty("detail").GetString()!.ShouldStartWith("Session already exists: ");
        duplicate.GetProperty("code").GetString().ShouldBe("session_exists");
    }

    [Fact]
    public async Task Patch_records_a_user_event_with_the_state_delta()
    {
        var app = SessiondServer.NewId("app");
        var url = $"/apps/{app}/users/u/sessions/{SessiondServer.NewId("p")}";
        await _http.PostJsonAsync(url, "{}");

        var patched = await (await _http.PatchJsonAsync(url, """{"stateDelta":{"mood":"good","user:lang":"fr"}}"""))
            .ShouldBeJsonAsync(HttpStatusCode.OK);

        patched.GetProperty("state").GetProperty("mood").GetString().ShouldBe("good");
        patched.GetProperty("state").GetProperty("user:lang").GetString().ShouldBe("fr");
        var evt = patched.GetProperty("events").EnumerateArray().Single();
        evt.GetProperty("author").GetString().ShouldBe("user");
        evt.GetProperty("invocationId").GetString()!.ShouldStartWith("p-");
        evt.GetProperty("actions").GetProperty("stateDelta").GetProperty("mood").GetString().ShouldBe("good");
        evt.GetProperty("timestamp").ValueKind.ShouldBe(System.Text.Json.JsonValueKind.Number);
        evt.TryGetProperty("seq", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task Sessions_are_shared_between_the_native_and_ADK_surfaces()
    {
        var app = SessiondServer.NewId("app");
        var native = await server.Client.CreateSessionAsync(new CreateSessionCommand { AppName = app, UserId = "bob" });
        await _http.PostJsonAsync($"/v1/sessions/{native.Id}/events",
            """{"events":[{"author":"user","content":{"role":"user","parts":[{"text":"from native"}]},"usage":{"inputTokens":2,"outputTokens":3}}]}""");

        var adk = await (await _http.GetAsync($"/apps/{app}/users/bob/sessions/{native.Id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        var evt = adk.GetProperty("events").EnumerateArray().Single();
        evt.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString().ShouldBe("from native");
        evt.GetProperty("usageMetadata").GetProperty("totalTokenCount").GetInt32().ShouldBe(5);
        evt.TryGetProperty("usage", out _).ShouldBeFalse();

        var adkMade = SessiondServer.NewId("adk");
        await _http.PostJsonAsync($"/apps/{app}/users/bob/sessions/{adkMade}", """{"fromAdk":true}""");
        var read = await server.Client.GetSessionAsync(adkMade);
        read.Session.State["fromAdk"].GetBoolean().ShouldBeTrue();
        // ADK's list-apps names the apps with agents to chat with; the native list names every app with sessions.
        (await (await _http.GetAsync("/v1/apps")).ShouldBeJsonAsync(HttpStatusCode.OK))
            .GetProperty("apps").EnumerateArray().Select(a => a.GetString()).ShouldContain(app);
    }

    [Fact]
    public async Task A_session_under_another_user_or_app_is_not_found()
    {
        var app = SessiondServer.NewId("app");
        var mine = SessiondServer.NewId("mine");
        await _http.PostJsonAsync($"/apps/{app}/users/owner/sessions/{mine}", "{}");

        (await _http.GetAsync($"/apps/{app}/users/intruder/sessions/{mine}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await _http.GetAsync($"/apps/other-app/users/owner/sessions/{mine}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        // ADK's delete is an idempotent no-op for a session it cannot see; it must not touch another user's session.
        (await _http.DeleteAsync($"/apps/{app}/users/intruder/sessions/{mine}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await _http.GetAsync($"/apps/{app}/users/owner/sessions/{mine}")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
