using System.Net;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>Who may do what, across the native, ADK and stream surfaces, with every kind of caller.</summary>
public sealed class AuthorizationTests(AuthServer server) : IClassFixture<AuthServer>
{
    private readonly HttpClient _anonymous = server.ClientWith(null);
    private readonly HttpClient _alice = server.ClientWith(AuthServer.AliceToken);
    private readonly HttpClient _bob = server.ClientWith(AuthServer.BobToken);
    private readonly HttpClient _admin = server.ClientWith(AuthServer.AdminToken);

    private async Task<string> CreateAsAsync(HttpClient client, string app, string body = "")
    {
        var created = await (await client.PostJsonAsync("/v1/sessions", $$"""{"appName":"{{app}}"{{body}}}""")).ShouldBeJsonAsync(HttpStatusCode.Created);
        return created.GetProperty("id").GetString()!;
    }

    [Theory]
    [InlineData("GET", "/v1/sessions")]
    [InlineData("POST", "/v1/sessions")]
    [InlineData("GET", "/v1/sessions/x")]
    [InlineData("GET", "/v1/sessions/x/stream")]
    [InlineData("GET", "/v1/apps")]
    [InlineData("GET", "/list-apps")]
    [InlineData("GET", "/apps/a/users/u/sessions")]
    [InlineData("GET", "/api/apps/a/users/u/sessions/x")]
    public async Task Missing_or_wrong_credentials_get_401_with_a_challenge(string method, string path)
    {
        foreach (var client in new[] { _anonymous, server.ClientWith("not-a-real-token-at-all"), server.ClientWith(AuthServer.Jwt("eve", key: "another-key-of-at-least-32-bytes-long!!")) })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            var response = await client.SendAsync(request);

            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, $"{method} {path}");
            response.Headers.WwwAuthenticate.ShouldNotBeEmpty();
        }
    }

    [Fact]
    public async Task Health_stays_open_and_reveals_nothing_else()
    {
        (await _anonymous.GetAsync("/healthz")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await _anonymous.GetAsync("/readyz")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_user_creates_only_for_itself_and_others_cannot_tell_its_session_exists()
    {
        var app = SessiondServer.NewId("app");
        var id = await CreateAsAsync(_alice, app);

        var mine = await (await _alice.GetAsync($"/v1/sessions/{id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        mine.GetProperty("userId").GetString().ShouldBe("alice");
        await (await _alice.PostJsonAsync("/v1/sessions", $$"""{"appName":"{{app}}","userId":"bob"}""")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        var missing = await (await _bob.GetAsync($"/v1/sessions/{SessiondServer.NewId("none")}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        var hidden = await (await _bob.GetAsync($"/v1/sessions/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        hidden.GetProperty("title").GetString()!.Replace(id, "ID").ShouldBe(missing.GetProperty("title").GetString()!.Replace(missing.GetProperty("title").GetString()!.Split('\'')[1], "ID"));
        await (await _bob.PostJsonAsync($"/v1/sessions/{id}/events", """{"events":[{"author":"user"}]}""")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        await (await _bob.PatchJsonAsync($"/v1/sessions/{id}", """{"title":"mine now"}""")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        await (await _bob.DeleteAsync($"/v1/sessions/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        await (await _bob.GetAsync($"/v1/sessions/{id}/stream")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        await (await _bob.GetAsync($"/v1/sessions/{id}/snapshot")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");

        var after = await (await _alice.GetAsync($"/v1/sessions/{id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        after.GetProperty("lastSeq").GetInt64().ShouldBe(0);
        after.TryGetProperty("title", out _).ShouldBeFalse();
    }

    [Fact]
    public async Task Lists_hold_only_what_the_caller_may_see()
    {
        var app = SessiondServer.NewId("app");
        var alices = await CreateAsAsync(_alice, app);
        var bobs = await CreateAsAsync(_bob, app);

        var forBob = await (await _bob.GetAsync($"/v1/sessions?appName={app}&userId=alice")).ShouldBeJsonAsync(HttpStatusCode.OK);
        forBob.GetProperty("sessions").GetArrayLength().ShouldBe(0);
        var ownList = await (await _bob.GetAsync($"/v1/sessions?appName={app}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        ownList.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("id").GetString()).ShouldBe([bobs]);
        var all = await (await _admin.GetAsync($"/v1/sessions?appName={app}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        all.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("id").GetString()).Order().ShouldBe(new[] { alices, bobs }.Order());

        var adkForBob = await (await _bob.GetAsync($"/apps/{app}/users/alice/sessions")).ShouldBeJsonAsync(HttpStatusCode.OK);
        adkForBob.GetArrayLength().ShouldBe(0);
        (await _bob.GetAsync($"/apps/{app}/users/alice/sessions/{alices}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await _bob.PostJsonAsync($"/apps/{app}/users/alice/sessions", "{}")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await _bob.DeleteAsync($"/apps/{app}/users/alice/sessions/{alices}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await _alice.GetAsync($"/v1/sessions/{alices}")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Team_sessions_are_visible_to_members_only()
    {
        var app = SessiondServer.NewId("app");
        var member = server.ClientWith(AuthServer.MemberToken);
        var teamSession = await CreateAsAsync(member, app, ""","teamId":"blue","scope":"team" """.TrimEnd());

        (await member.GetAsync($"/v1/sessions/{teamSession}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await server.ClientWith(AuthServer.Jwt("jules", teams: ["blue"])).GetAsync($"/v1/sessions/{teamSession}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await _alice.GetAsync($"/v1/sessions/{teamSession}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var teamList = await (await server.ClientWith(AuthServer.Jwt("jules", teams: ["blue"])).GetAsync($"/v1/sessions?teamId=blue&appName={app}"))
            .ShouldBeJsonAsync(HttpStatusCode.OK);
        teamList.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("id").GetString()).ShouldBe([teamSession]);
        await (await _alice.PostJsonAsync("/v1/sessions", $$"""{"appName":"{{app}}","teamId":"blue","scope":"team"}"""))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task A_service_acts_only_for_the_user_it_names()
    {
        var app = SessiondServer.NewId("app");
        var alices = await CreateAsAsync(_alice, app);

        var unnamed = server.ClientWith(AuthServer.ServiceToken);
        await (await unnamed.GetAsync($"/v1/sessions?appName={app}")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        (await unnamed.GetAsync($"/v1/sessions/{alices}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        var forAlice = server.ClientWith(AuthServer.ServiceToken, forwardedUser: "alice");
        (await forAlice.GetAsync($"/v1/sessions/{alices}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var created = await (await forAlice.PostJsonAsync("/v1/sessions", $$"""{"appName":"{{app}}"}""")).ShouldBeJsonAsync(HttpStatusCode.Created);
        created.GetProperty("userId").GetString().ShouldBe("alice");
        (await server.ClientWith(AuthServer.ServiceToken, forwardedUser: "bob").GetAsync($"/v1/sessions/{alices}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Apps_restrict_a_caller()
    {
        var nora = server.ClientWith(AuthServer.NotesOnlyToken);

        (await nora.PostJsonAsync("/v1/sessions", """{"appName":"notes"}""")).StatusCode.ShouldBe(HttpStatusCode.Created);
        await (await nora.PostJsonAsync("/v1/sessions", """{"appName":"billing"}""")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        var apps = await (await nora.GetAsync("/v1/apps")).ShouldBeJsonAsync(HttpStatusCode.OK);
        apps.GetProperty("apps").EnumerateArray().Select(a => a.GetString()).ShouldBe(["notes"]);
    }

    [Fact]
    public async Task Jwt_callers_are_users_and_admins_by_their_claims()
    {
        var app = SessiondServer.NewId("app");
        var alices = await CreateAsAsync(_alice, app);

        var jwtAlice = server.ClientWith(AuthServer.Jwt("alice"));
        (await jwtAlice.GetAsync($"/v1/sessions/{alices}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await server.ClientWith(AuthServer.Jwt("mallory")).GetAsync($"/v1/sessions/{alices}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await server.ClientWith(AuthServer.Jwt("root", roles: ["admin"])).GetAsync($"/v1/sessions/{alices}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await server.ClientWith(AuthServer.Jwt("alice", audience: "someone-else")).GetAsync($"/v1/sessions/{alices}")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_user_reads_only_its_own_feed_and_user_state()
    {
        var app = SessiondServer.NewId("app");

        (await _bob.GetAsync($"/v1/apps/{app}/users/alice/state")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await _bob.GetAsync($"/v1/stream?appName={app}&userId=alice")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await _alice.GetAsync($"/v1/apps/{app}/users/alice/state")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
