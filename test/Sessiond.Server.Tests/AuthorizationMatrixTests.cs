using System.Net;
using System.Text;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>
/// Every session route of the native, ADK and stream surfaces, tried by every kind of caller against a session owned by
/// alice (in team red, team-scoped): who gets through, who is refused, and that a refusal never reveals the session.
/// </summary>
public sealed class AuthorizationMatrixTests(AuthServer server) : IClassFixture<AuthServer>
{
    public enum Who { Anonymous, WrongToken, Owner, OtherUser, TeamMember, NonMember, Admin, ServiceWithoutUser, ServiceForOwner }

    /// <summary>What a caller may do with alice's team-scoped session: read and write it, or nothing.</summary>
    private static readonly Dictionary<Who, bool> MayAccess = new()
    {
        [Who.Owner] = true, [Who.TeamMember] = true, [Who.Admin] = true, [Who.ServiceForOwner] = true,
        [Who.OtherUser] = false, [Who.NonMember] = false, [Who.ServiceWithoutUser] = false,
    };

    public static TheoryData<string, string, string?> Routes => new()
    {
        { "GET", "/v1/sessions/{id}", null },
        { "GET", "/v1/sessions/{id}/events", null },
        { "GET", "/v1/sessions/{id}/snapshot", null },
        { "GET", "/v1/sessions/{id}/stream", null },
        { "PATCH", "/v1/sessions/{id}", """{"starred":true}""" },
        { "POST", "/v1/sessions/{id}/events", """{"events":[{"author":"user"}]}""" },
        { "POST", "/v1/sessions/{id}/events#partial", """{"events":[{"author":"user","partial":true}]}""" },
        { "DELETE", "/v1/sessions/{id}", null },
        { "GET", "/apps/{app}/users/alice/sessions/{id}", null },
        { "PATCH", "/apps/{app}/users/alice/sessions/{id}", """{"stateDelta":{"x":1}}""" },
        { "GET", "/api/apps/{app}/users/alice/sessions/{id}", null },
        { "GET", "/v1/sessions/{id}/status", null },
        { "POST", "/v1/sessions/{id}/turns#echo", """{"input":"hi"}""" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Every_caller_gets_what_it_may_and_nothing_more(string method, string route, string? body)
    {
        foreach (var who in Enum.GetValues<Who>())
        {
            // Routes marked #echo need an app with agents.
            var app = route.EndsWith("#echo", StringComparison.Ordinal) ? "echo" : SessiondServer.NewId("app");
            var id = await CreateAlicesTeamSessionAsync(app);
            var path = route.Replace("{id}", id).Replace("{app}", app).Replace("#partial", "").Replace("#echo", "");
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            using var client = ClientFor(who);
            using var response = route.EndsWith("/stream", StringComparison.Ordinal)
                ? await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead)
                : await client.SendAsync(request);
            var context = $"{who} {method} {route}: {(int)response.StatusCode}";

            if (who is Who.Anonymous or Who.WrongToken)
            {
                response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, context);
                response.Headers.WwwAuthenticate.ShouldNotBeEmpty(context);
            }
            else if (MayAccess[who])
            {
                ((int)response.StatusCode).ShouldBeInRange(200, 299, context);
            }
            else
            {
                response.StatusCode.ShouldBe(HttpStatusCode.NotFound, context);
                (await response.Content.ReadAsStringAsync()).ShouldContain("session_not_found", Case.Sensitive, context);
            }

            if (who is not (Who.Owner or Who.TeamMember or Who.Admin or Who.ServiceForOwner) || method == "GET")
            {
                // A refused or read-only call left the session as it was.
                var after = await (await server.ClientWith(AuthServer.AdminToken).GetAsync($"/v1/sessions/{id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
                after.GetProperty("lastSeq").GetInt64().ShouldBe(0, context);
                after.GetProperty("starred").GetBoolean().ShouldBeFalse(context);
            }
        }
    }

    [Fact]
    public async Task Lists_and_creates_follow_the_same_rules()
    {
        var app = SessiondServer.NewId("app");
        var id = await CreateAlicesTeamSessionAsync(app);

        foreach (var who in Enum.GetValues<Who>())
        {
            using var client = ClientFor(who);
            var list = await client.GetAsync($"/v1/sessions?appName={app}&teamId=red");
            var context = $"{who}: {(int)list.StatusCode}";
            switch (who)
            {
                case Who.Anonymous or Who.WrongToken:
                    list.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, context);
                    break;
                case Who.ServiceWithoutUser:
                    list.StatusCode.ShouldBe(HttpStatusCode.Forbidden, context);
                    break;
                default:
                    var ids = (await list.ShouldBeJsonAsync(HttpStatusCode.OK)).GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("id").GetString()).ToList();
                    ids.Contains(id).ShouldBe(MayAccess[who], context);
                    break;
            }

            var create = await client.PostJsonAsync("/v1/sessions", $$"""{"appName":"{{app}}","userId":"alice"}""");
            var expected = who switch
            {
                Who.Anonymous or Who.WrongToken => HttpStatusCode.Unauthorized,
                Who.Owner or Who.Admin or Who.ServiceForOwner => HttpStatusCode.Created,
                _ => HttpStatusCode.Forbidden,
            };
            create.StatusCode.ShouldBe(expected, $"{who} create for alice");
        }
    }

    private async Task<string> CreateAlicesTeamSessionAsync(string app)
    {
        using var alice = server.ClientWith(AuthServer.AliceToken);
        var created = await (await alice.PostJsonAsync("/v1/sessions", $$"""{"appName":"{{app}}","teamId":"red","scope":"team"}"""))
            .ShouldBeJsonAsync(HttpStatusCode.Created);
        return created.GetProperty("id").GetString()!;
    }

    private HttpClient ClientFor(Who who) => who switch
    {
        Who.Anonymous => server.ClientWith(null),
        Who.WrongToken => server.ClientWith("this-token-was-never-configured"),
        Who.Owner => server.ClientWith(AuthServer.AliceToken),
        Who.OtherUser => server.ClientWith(AuthServer.BobToken),
        Who.TeamMember => server.ClientWith(AuthServer.Jwt("rita", teams: ["red"])),
        Who.NonMember => server.ClientWith(AuthServer.MemberToken),
        Who.Admin => server.ClientWith(AuthServer.AdminToken),
        Who.ServiceWithoutUser => server.ClientWith(AuthServer.ServiceToken),
        Who.ServiceForOwner => server.ClientWith(AuthServer.ServiceToken, forwardedUser: "alice"),
        _ => throw new ArgumentOutOfRangeException(nameof(who)),
    };
}
