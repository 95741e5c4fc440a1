using System.Net;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>ADK runs, graphs and traces check the caller like every other route.</summary>
public sealed class AdkRunAuthorizationTests(AuthServer server) : IClassFixture<AuthServer>
{
    private readonly HttpClient _alice = server.ClientWith(AuthServer.AliceToken);
    private readonly HttpClient _bob = server.ClientWith(AuthServer.BobToken);
    private readonly HttpClient _notesOnly = server.ClientWith(AuthServer.NotesOnlyToken);

    private static string RunBody(string user, string sessionId) =>
        $$$"""{"appName":"echo","userId":"{{{user}}}","sessionId":"{{{sessionId}}}","newMessage":{"role":"user","parts":[{"text":"mine"}]}}""";

    [Fact]
    public async Task Another_users_session_is_not_found_by_run_run_sse_or_trace()
    {
        var id = SessiondServer.NewId("alice");
        (await _alice.PostJsonAsync("/apps/echo/users/alice/sessions", $$"""{"sessionId":"{{id}}"}""")).StatusCode.ShouldBe(HttpStatusCode.OK);

        foreach (var path in new[] { "/run", "/run_sse", "/api/run" })
        {
            var refused = await (await _bob.PostJsonAsync(path, RunBody("alice", id))).ShouldBeJsonAsync(HttpStatusCode.NotFound);
            refused.GetProperty("detail").GetString().ShouldBe($"Session not found: {id}");
        }

        (await _bob.GetAsync($"/debug/trace/session/{id}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await _bob.GetAsync($"/dev/apps/echo/debug/trace/session/{id}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var session = await (await _alice.GetAsync($"/apps/echo/users/alice/sessions/{id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        session.GetProperty("events").GetArrayLength().ShouldBe(0);

        var run = await (await _alice.PostJsonAsync("/run", RunBody("alice", id))).ShouldBeJsonAsync(HttpStatusCode.OK);
        run.GetArrayLength().ShouldBe(2);
    }

    [Theory]
    [InlineData("POST", "/run")]
    [InlineData("POST", "/run_sse")]
    [InlineData("GET", "/version")]
    [InlineData("GET", "/dev/apps/echo/build_graph")]
    [InlineData("GET", "/dev/apps/echo/build_graph_image")]
    [InlineData("GET", "/debug/trace/session/x")]
    public async Task Without_credentials_every_route_is_401(string method, string path)
    {
        using var anonymous = server.ClientWith(null);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);

        (await anonymous.SendAsync(request)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_caller_limited_to_other_apps_sees_no_agents_of_echo()
    {
        var apps = await (await _notesOnly.GetAsync("/list-apps")).ShouldBeJsonAsync(HttpStatusCode.OK);
        apps.GetArrayLength().ShouldBe(0);

        var refused = await (await _notesOnly.GetAsync("/dev/apps/echo/build_graph")).ShouldBeJsonAsync(HttpStatusCode.Forbidden);
        refused.GetProperty("detail").GetString().ShouldNotBeNullOrEmpty();
        (await _notesOnly.GetAsync("/dev/apps/echo/build_graph_image")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }
}
