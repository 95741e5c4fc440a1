using System.Globalization;
using System.Net;
using System.Text.Json;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>The signed session-manager API, <c>/api/v1/sessions</c>, end to end in agentapi-proxy's shapes.</summary>
public sealed class SignedSessionManagerApiTests(HmacServer server) : IClassFixture<HmacServer>
{
    private Task<HttpResponseMessage> CreateAsync(string body, string? forwardedUser, string? forwardedTeam = null) =>
        server.SendAsync(new SignedCall("POST", "/api/v1/sessions") { Body = body, ForwardedUser = forwardedUser, ForwardedTeam = forwardedTeam });

    private async Task<string> CreateForAsync(string user, string session = "", string? forwardedTeam = null)
    {
        var created = await (await CreateAsync($$$"""{"session":{"user_id":"{{{user}}}"{{{session}}}}}""", user, forwardedTeam))
            .ShouldBeJsonAsync(HttpStatusCode.Created);
        return created.GetProperty("session_id").GetString()!;
    }

    private async Task<JsonElement> GetAsync(string id, string user) =>
        await (await server.SendAsync(new SignedCall("GET", $"/api/v1/sessions/{id}") { ForwardedUser = user })).ShouldBeJsonAsync(HttpStatusCode.OK);

    private async Task<List<JsonElement>> ListAsync(string query, string user)
    {
        var body = await (await server.SendAsync(new SignedCall("GET", "/api/v1/sessions" + query) { ForwardedUser = user })).ShouldBeJsonAsync(HttpStatusCode.OK);
        body.EnumerateObject().Select(p => p.Name).ShouldBe(["sessions"]);
        return [.. body.GetProperty("sessions").EnumerateArray()];
    }

    [Fact]
    public async Task Create_answers_201_with_the_session_id_and_get_answers_the_session_info()
    {
        var user = SessiondServer.NewId("u");
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        var response = await CreateAsync($$$"""{"session":{"user_id":"{{{user}}}"}}""", user);

        var created = await response.ShouldBeJsonAsync(HttpStatusCode.Created);
        created.EnumerateObject().Select(p => p.Name).ShouldBe(["session_id"]);
        var id = created.GetProperty("session_id").GetString()!;
        response.Headers.Location!.ToString().ShouldBe($"/api/v1/sessions/{id}");

        var info = await GetAsync(id, user);
        info.GetProperty("id").GetString().ShouldBe(id);
        info.GetProperty("user_id").GetString().ShouldBe(user);
        info.GetProperty("status").GetString().ShouldBe("idle");
        info.GetProperty("scope").GetString().ShouldBe("user");
        info.GetProperty("agent_type").GetString().ShouldBe("default");
        info.TryGetProperty("team_id", out _).ShouldBeFalse();
        var createdAt = DateTimeOffset.Parse(info.GetProperty("created_at").GetString()!, CultureInfo.InvariantCulture);
        createdAt.ShouldBeInRange(before, DateTimeOffset.UtcNow.AddSeconds(1));
        info.GetProperty("created_at").GetString()!.ShouldEndWith("Z");
    }

    [Fact]
    public async Task Create_takes_the_id_agent_type_scope_and_team()
    {
        var user = SessiondServer.NewId("u");
        var team = SessiondServer.NewId("t");
        var id = SessiondServer.NewId("s");

        var created = await (await CreateAsync(
            $$$"""{"session":{"id":"{{{id}}}","user_id":"{{{user}}}","scope":"team","team_id":"{{{team}}}","agent_type":"claude-agentapi"}}""", user, team))
            .ShouldBeJsonAsync(HttpStatusCode.Created);

        created.GetProperty("session_id").GetString().ShouldBe(id);
        var info = await GetAsync(id, user);
        info.GetProperty("scope").GetString().ShouldBe("team");
        info.GetProperty("team_id").GetString().ShouldBe(team);
        info.GetProperty("agent_type").GetString().ShouldBe("claude-agentapi");
    }

    [Fact]
    public async Task Create_ignores_unknown_fields()
    {
        var user = SessiondServer.NewId("u");

        var response = await CreateAsync(
            $$$"""{"session":{"user_id":"{{{user}}}","labels":{"a":"b"},"priority":3},"env":{"API_KEY":"not-stored","N":1},"tags":["x"],"repository":"r"}""", user);

        var id = (await response.ShouldBeJsonAsync(HttpStatusCode.Created)).GetProperty("session_id").GetString()!;
        var session = await (await server.SendAsync(new SignedCall("GET", $"/v1/sessions/{id}") { ForwardedUser = user })).ShouldBeJsonAsync(HttpStatusCode.OK);
        session.GetRawText().ShouldNotContain("not-stored");
    }

    [Fact]
    public async Task Create_stores_the_initial_message_as_the_first_user_event()
    {
        var user = SessiondServer.NewId("u");
        var id = await CreateForAsync(user, session: "", forwardedTeam: null);
        var withMessage = (await (await CreateAsync($$$"""{"session":{"user_id":"{{{user}}}"},"initial_message":"Fix the flaky test"}""", user))
            .ShouldBeJsonAsync(HttpStatusCode.Created)).GetProperty("session_id").GetString()!;

        var events = await (await server.SendAsync(new SignedCall("GET", $"/v1/sessions/{withMessage}/events") { ForwardedUser = user }))
            .ShouldBeJsonAsync(HttpStatusCode.OK);
        var only = events.GetProperty("events").EnumerateArray().ShouldHaveSingleItem();
        only.GetProperty("seq").GetInt64().ShouldBe(1);
        only.GetProperty("author").GetString().ShouldBe("user");
        only.GetProperty("content").GetProperty("role").GetString().ShouldBe("user");
        only.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString().ShouldBe("Fix the flaky test");
        (await GetAsync(withMessage, user)).GetProperty("status").GetString().ShouldBe("idle", "no turn runs until the agent runtime exists");

        var none = await (await server.SendAsync(new SignedCall("GET", $"/v1/sessions/{id}/events") { ForwardedUser = user })).ShouldBeJsonAsync(HttpStatusCode.OK);
        none.GetProperty("events").GetArrayLength().ShouldBe(0);
    }

    [Theory]
    [InlineData("""{"session":{}}""")]
    [InlineData("""{"session":{"user_id":""}}""")]
    [InlineData("""{"session":{"user_id":null}}""")]
    [InlineData("""{"initial_message":"hi"}""")]
    [InlineData("""{"user_id":"someone"}""")]
    [InlineData("{}")]
    public async Task Create_without_a_user_id_answers_400(string body)
    {
        await (await CreateAsync(body, forwardedUser: null)).ShouldBeMessageAsync(HttpStatusCode.BadRequest, "'session.user_id' is required.");
    }

    [Fact]
    public async Task Create_with_no_body_or_a_broken_one_answers_400()
    {
        var user = SessiondServer.NewId("u");

        var empty = await server.SendAsync(new SignedCall("POST", "/api/v1/sessions") { ForwardedUser = user });
        empty.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await empty.Content.ReadAsStringAsync()).ShouldContain("\"message\"");
        var broken = await CreateAsync("""{"session":""", user);
        broken.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await broken.Content.ReadAsStringAsync()).ShouldContain("\"message\"");
    }

    [Fact]
    public async Task Create_with_a_bad_scope_or_a_team_scope_without_a_team_answers_400()
    {
        var user = SessiondServer.NewId("u");

        await (await CreateAsync($$$"""{"session":{"user_id":"{{{user}}}","scope":"world"}}""", user))
            .ShouldBeMessageAsync(HttpStatusCode.BadRequest, "'scope' must be 'user' or 'team'.");
        await (await CreateAsync($$$"""{"session":{"user_id":"{{{user}}}","scope":"team"}}""", user))
            .ShouldBeMessageAsync(HttpStatusCode.BadRequest, "A session with scope 'team' needs a 'teamId'.");
    }

    [Fact]
    public async Task Create_with_a_taken_id_answers_409()
    {
        var user = SessiondServer.NewId("u");
        var id = SessiondServer.NewId("s");
        await CreateForAsync(user, $$$""","id":"{{{id}}}" """);

        await (await CreateAsync($$$"""{"session":{"user_id":"{{{user}}}","id":"{{{id}}}"},"initial_message":"again"}""", user))
            .ShouldBeMessageAsync(HttpStatusCode.Conflict, $"Session already exists: {id}");
    }

    [Fact]
    public async Task Create_for_another_user_than_the_forwarded_one_answers_403()
    {
        var user = SessiondServer.NewId("u");
        var other = SessiondServer.NewId("other");

        await (await CreateAsync($$$"""{"session":{"user_id":"{{{other}}}"}}""", user))
            .ShouldBeMessageAsync(HttpStatusCode.Forbidden, "'session.user_id' must be the user named by X-Forwarded-User.");

        (await ListAsync($"?user_id={other}", other)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Create_without_a_forwarded_user_acts_for_the_body_user()
    {
        var user = SessiondServer.NewId("u");

        var id = (await (await CreateAsync($$$"""{"session":{"user_id":"{{{user}}}"}}""", forwardedUser: null))
            .ShouldBeJsonAsync(HttpStatusCode.Created)).GetProperty("session_id").GetString()!;

        (await GetAsync(id, user)).GetProperty("user_id").GetString().ShouldBe(user);
    }

    [Fact]
    public async Task Create_for_a_team_the_upstream_did_not_forward_answers_403()
    {
        var user = SessiondServer.NewId("u");
        var team = SessiondServer.NewId("t");

        await (await CreateAsync($$$"""{"session":{"user_id":"{{{user}}}","scope":"team","team_id":"{{{team}}}"}}""", user, forwardedTeam: "another-team"))
            .ShouldBeMessageAsync(HttpStatusCode.Forbidden, "A session can only be given to a team the caller belongs to.");
    }

    [Fact]
    public async Task List_answers_every_match_across_pages_with_four_fields_each()
    {
        var user = SessiondServer.NewId("u");
        var ids = new List<string>();
        for (var i = 0; i < (2 * HmacServer.PageSize) + 1; i++)
        {
            ids.Add(await CreateForAsync(user));
        }

        var sessions = await ListAsync($"?user_id={user}", user);

        sessions.Select(s => s.GetProperty("id").GetString()).ShouldBe(ids, ignoreOrder: true);
        foreach (var session in sessions)
        {
            session.EnumerateObject().Select(p => p.Name).ShouldBe(["id", "user_id", "status", "created_at"]);
            session.GetProperty("user_id").GetString().ShouldBe(user);
            session.GetProperty("status").GetString().ShouldBe("idle");
            DateTimeOffset.TryParse(session.GetProperty("created_at").GetString(), CultureInfo.InvariantCulture, out _).ShouldBeTrue();
        }
    }

    [Fact]
    public async Task List_filters_by_scope_team_and_status()
    {
        var user = SessiondServer.NewId("u");
        var red = SessiondServer.NewId("red");
        var blue = SessiondServer.NewId("blue");
        var teams = $"{red}, {blue}";
        var own = await CreateForAsync(user, forwardedTeam: teams);
        var redSession = await CreateForAsync(user, $$$""","scope":"team","team_id":"{{{red}}}" """, teams);
        var blueSession = await CreateForAsync(user, $$$""","scope":"team","team_id":"{{{blue}}}" """, teams);

        static string[] Ids(List<JsonElement> sessions) => [.. sessions.Select(s => s.GetProperty("id").GetString()!)];

        Ids(await ListAsync($"?user_id={user}&scope=user", user)).ShouldBe([own]);
        Ids(await ListAsync($"?user_id={user}&scope=team", user)).ShouldBe([redSession, blueSession], ignoreOrder: true);
        Ids(await ListAsync($"?user_id={user}&team_id={red}", user)).ShouldBe([redSession]);
        Ids(await ListAsync($"?user_id={user}&status=idle", user)).ShouldBe([own, redSession, blueSession], ignoreOrder: true);
        Ids(await ListAsync($"?user_id={user}&status=running", user)).ShouldBeEmpty();
        Ids(await ListAsync("", user)).ShouldBe([own, redSession, blueSession], ignoreOrder: true);
    }

    [Fact]
    public async Task List_shows_a_team_member_the_team_sessions_only()
    {
        var owner = SessiondServer.NewId("u");
        var member = SessiondServer.NewId("m");
        var team = SessiondServer.NewId("t");
        var shared = await CreateForAsync(owner, $$$""","scope":"team","team_id":"{{{team}}}" """, team);
        await CreateForAsync(owner);

        var seen = await server.SendAsync(new SignedCall("GET", $"/api/v1/sessions?team_id={team}") { ForwardedUser = member, ForwardedTeam = team });
        (await seen.ShouldBeJsonAsync(HttpStatusCode.OK)).GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("id").GetString())
            .ShouldBe([shared]);
        (await ListAsync($"?user_id={owner}", member)).ShouldBeEmpty();
    }

    [Fact]
    public async Task List_with_a_bad_filter_answers_400()
    {
        var user = SessiondServer.NewId("u");

        await (await server.SendAsync(new SignedCall("GET", $"/api/v1/sessions?user_id={user}&status=sleeping") { ForwardedUser = user }))
            .ShouldBeMessageAsync(HttpStatusCode.BadRequest, "'status' must be one of idle, running, waiting, failed.");
        await (await server.SendAsync(new SignedCall("GET", $"/api/v1/sessions?user_id={user}&scope=all") { ForwardedUser = user }))
            .ShouldBeMessageAsync(HttpStatusCode.BadRequest, "'scope' must be 'user' or 'team'.");
    }

    [Fact]
    public async Task List_without_a_forwarded_user_is_refused()
    {
        var user = SessiondServer.NewId("u");

        await (await server.SendAsync(new SignedCall("GET", $"/api/v1/sessions?user_id={user}")))
            .ShouldBeMessageAsync(HttpStatusCode.Forbidden, "A service must name the user it acts for (X-Forwarded-User).");
    }

    [Fact]
    public async Task Get_of_a_missing_or_hidden_session_answers_404_with_the_id()
    {
        var user = SessiondServer.NewId("u");
        var missing = SessiondServer.NewId("s");
        var id = await CreateForAsync(user);

        await (await server.SendAsync(new SignedCall("GET", $"/api/v1/sessions/{missing}") { ForwardedUser = user }))
            .ShouldBeMessageAsync(HttpStatusCode.NotFound, $"session not found: {missing}");
        await (await server.SendAsync(new SignedCall("GET", $"/api/v1/sessions/{id}") { ForwardedUser = SessiondServer.NewId("other") }))
            .ShouldBeMessageAsync(HttpStatusCode.NotFound, $"session not found: {id}");
        await (await server.SendAsync(new SignedCall("GET", $"/api/v1/sessions/{id}")))
            .ShouldBeMessageAsync(HttpStatusCode.NotFound, $"session not found: {id}");
    }

    [Fact]
    public async Task Delete_answers_204_then_404_with_the_id()
    {
        var user = SessiondServer.NewId("u");
        var id = await CreateForAsync(user);

        (await server.SendAsync(new SignedCall("DELETE", $"/api/v1/sessions/{id}") { ForwardedUser = user })).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        await (await server.SendAsync(new SignedCall("GET", $"/api/v1/sessions/{id}") { ForwardedUser = user }))
            .ShouldBeMessageAsync(HttpStatusCode.NotFound, $"session not found: {id}");
        await (await server.SendAsync(new SignedCall("DELETE", $"/api/v1/sessions/{id}") { ForwardedUser = user }))
            .ShouldBeMessageAsync(HttpStatusCode.NotFound, $"session not found: {id}");
    }

    [Fact]
    public async Task Delete_of_another_users_session_answers_404_and_keeps_it()
    {
        var user = SessiondServer.NewId("u");
        var id = await CreateForAsync(user);

        await (await server.SendAsync(new SignedCall("DELETE", $"/api/v1/sessions/{id}") { ForwardedUser = SessiondServer.NewId("other") }))
            .ShouldBeMessageAsync(HttpStatusCode.NotFound, $"session not found: {id}");

        (await GetAsync(id, user)).GetProperty("id").GetString().ShouldBe(id);
    }

    [Fact]
    public async Task A_forwarded_user_given_twice_or_as_a_list_answers_400()
    {
        var target = $"/api/v1/sessions?user_id={SessiondServer.NewId("a")}";
        using var request = new HttpRequestMessage(HttpMethod.Get, target);
        var timestamp = TestSigner.Now();
        request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", TestSigner.Sign(HmacServer.FirstSecret, "GET", target, timestamp, []));
        request.Headers.TryAddWithoutValidation("X-Timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("X-Forwarded-User", [SessiondServer.NewId("a"), SessiondServer.NewId("b")]);

        await (await server.Http.SendAsync(request)).ShouldBeMessageAsync(HttpStatusCode.BadRequest, "X-Forwarded-User must name one user");
    }
}

/// <summary>Without an HMAC secret the signed session-manager API does not exist.</summary>
public sealed class SignedSessionManagerAbsentTests(SessiondServer server) : IClassFixture<SessiondServer>
{
    [Theory]
    [InlineData("GET", "/api/v1/sessions")]
    [InlineData("POST", "/api/v1/sessions")]
    [InlineData("GET", "/api/v1/sessions/s1")]
    [InlineData("DELETE", "/api/v1/sessions/s1")]
    public async Task Without_auth_the_routes_answer_404(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);

        (await server.Http.SendAsync(request)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}

/// <summary>With other schemes but no HMAC secret, an authenticated caller finds no signed session-manager API either.</summary>
public sealed class SignedSessionManagerAbsentWithTokensTests(AuthServer server) : IClassFixture<AuthServer>
{
    [Theory]
    [InlineData("GET", "/api/v1/sessions")]
    [InlineData("POST", "/api/v1/sessions")]
    [InlineData("GET", "/api/v1/sessions/s1")]
    [InlineData("DELETE", "/api/v1/sessions/s1")]
    public async Task The_routes_answer_404(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);

        (await server.ClientWith(AuthServer.AdminToken).SendAsync(request)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}
