using Sessiond.Core.Access;
using Sessiond.Core.Errors;
using Sessiond.Core.Sessions;
using Shouldly;

namespace Sessiond.Core.Tests;

public sealed class AccessPolicyTests
{
    private static Session SessionOf(string user, string app = "app", string? team = null, string scope = SessionScope.User) =>
        new() { Id = "s", AppName = app, UserId = user, TeamId = team, Scope = scope };

    private static Caller User(string user, params string[] teams) => new() { UserId = user, Teams = teams.ToHashSet() };

    [Fact]
    public void A_user_sees_own_sessions_and_team_sessions_of_own_teams_only()
    {
        AccessPolicy.MaySee(User("alice"), SessionOf("alice")).ShouldBeTrue();
        AccessPolicy.MaySee(User("alice"), SessionOf("bob")).ShouldBeFalse();
        AccessPolicy.MaySee(User("alice", "t1"), SessionOf("bob", team: "t1", scope: SessionScope.Team)).ShouldBeTrue();
        AccessPolicy.MaySee(User("alice", "t1"), SessionOf("bob", team: "t1", scope: SessionScope.User)).ShouldBeFalse();
        AccessPolicy.MaySee(User("alice", "t2"), SessionOf("bob", team: "t1", scope: SessionScope.Team)).ShouldBeFalse();
    }

    [Fact]
    public void Admins_see_everything_within_their_apps()
    {
        var admin = new Caller { Role = CallerRole.Admin, Apps = new HashSet<string> { "app" } };

        AccessPolicy.MaySee(admin, SessionOf("anyone")).ShouldBeTrue();
        AccessPolicy.MaySee(admin, SessionOf("anyone", app: "other")).ShouldBeFalse();
        AccessPolicy.MaySee(Caller.System, SessionOf("anyone", app: "other")).ShouldBeTrue();
    }

    [Fact]
    public void Creates_are_owned_by_the_caller_unless_an_admin_names_a_user()
    {
        AccessPolicy.OwnerForCreate(User("alice"), null).ShouldBe("alice");
        AccessPolicy.OwnerForCreate(User("alice"), "alice").ShouldBe("alice");
        Should.Throw<SessiondException>(() => AccessPolicy.OwnerForCreate(User("alice"), "bob")).Kind.ShouldBe(ErrorKind.Forbidden);
        AccessPolicy.OwnerForCreate(Caller.System, "bob").ShouldBe("bob");
    }

    [Fact]
    public void A_service_must_name_a_user()
    {
        var service = new Caller { Role = CallerRole.Service };

        Should.Throw<SessiondException>(() => AccessPolicy.RequireUser(service)).Message.ShouldContain("X-Forwarded-User");
        AccessPolicy.MaySee(service, SessionOf("alice")).ShouldBeFalse();
        AccessPolicy.MaySee(service with { UserId = "alice" }, SessionOf("alice")).ShouldBeTrue();
    }
}
