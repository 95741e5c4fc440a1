using Sessiond.Core.Access;
using System.Collections.Concurrent;
using Sessiond.Core.Sessions;
using Shouldly;

namespace Sessiond.Storage.Conformance;

/// <summary>Listing sessions: exact-match filters, newest first, and keyset pages that never repeat or skip an item.</summary>
public abstract class ListConformance(IStoreFixture fixture) : StoreConformanceBase(fixture)
{
    [Fact]
    public async Task Filters_by_app_user_team_scope_status_and_starred()
    {
        var app = Unique("app");
        var otherApp = Unique("app");
        var alice = Unique("alice");
        var bob = Unique("bob");
        var team = Unique("team");
        var a1 = await CreateAsync(app, alice);
        var a2 = await CreateAsync(app, alice, teamId: team, scope: SessionScope.Team);
        var b1 = await CreateAsync(app, bob, teamId: team, scope: SessionScope.Team);
        var b2 = await CreateAsync(app, bob, teamId: team);
        var other = await CreateAsync(otherApp, alice);
        await Service.UpdateAsync(Caller.System, a2.Id, new UpdateSessionCommand { Starred = true }, Ct);
        await Service.UpdateAsync(Caller.System, b2.Id, new UpdateSessionCommand { Starred = true }, Ct);

        (await IdsAsync(new SessionQuery { AppName = app })).ShouldBe([a1.Id, a2.Id, b1.Id, b2.Id], ignoreOrder: true);
        (await IdsAsync(new SessionQuery { AppName = app, UserId = alice })).ShouldBe([a1.Id, a2.Id], ignoreOrder: true);
        (await IdsAsync(new SessionQuery { UserId = alice, AppName = otherApp })).ShouldBe([other.Id]);
        (await IdsAsync(new SessionQuery { TeamId = team })).ShouldBe([a2.Id, b1.Id, b2.Id], ignoreOrder: true);
        (await IdsAsync(new SessionQuery { TeamId = team, Scope = SessionScope.Team })).ShouldBe([a2.Id, b1.Id], ignoreOrder: true);
        (await IdsAsync(new SessionQuery { AppName = app, Scope = SessionScope.User })).ShouldBe([a1.Id, b2.Id], ignoreOrder: true);
        (await IdsAsync(new SessionQuery { AppName = app, Starred = true })).ShouldBe([a2.Id, b2.Id], ignoreOrder: true);
        (await IdsAsync(new SessionQuery { AppName = app, UserId = bob, Starred = false })).ShouldBe([b1.Id]);
        (await IdsAsync(new SessionQuery { AppName = app, Status = SessionStatus.Idle })).Count.ShouldBe(4);
        (await IdsAsync(new SessionQuery { AppName = app, Status = SessionStatus.Running })).ShouldBeEmpty();
        (await IdsAsync(new SessionQuery { AppName = Unique("app") })).ShouldBeEmpty();
    }

    [Fact]
    public async Task Orders_by_updated_at_descending_then_id_descending()
    {
        var app = Unique("app");
        var user = Unique("user");
        var prefix = Guid.NewGuid().ToString("N");
        await Store.CreateSessionAsync(NewSessionAt($"{prefix}-a", app, user, Epoch.AddSeconds(1)), Ct);
        await Store.CreateSessionAsync(NewSessionAt($"{prefix}-b", app, user, Epoch.AddSeconds(3)), Ct);
        await Store.CreateSessionAsync(NewSessionAt($"{prefix}-c", app, user, Epoch.AddSeconds(2)), Ct);
        await Store.CreateSessionAsync(NewSessionAt($"{prefix}-d", app, user, Epoch.AddSeconds(2)), Ct);

        (await IdsAsync(new SessionQuery { AppName = app, UserId = user }))
            .ShouldBe([$"{prefix}-b", $"{prefix}-d", $"{prefix}-c", $"{prefix}-a"]);

        // Appending moves a session to the top, because it sets updatedAt.
        await Store.AppendEventsAsync(BatchAt($"{prefix}-a", Epoch.AddSeconds(10), Event("x")), Ct);
        (await IdsAsync(new SessionQuery { AppName = app, UserId = user }))
            .ShouldBe([$"{prefix}-a", $"{prefix}-b", $"{prefix}-d", $"{prefix}-c"]);
    }

    [Fact]
    public async Task Pages_cover_every_session_exactly_once()
    {
        var app = Unique("app");
        var user = Unique("user");
        var expected = new List<string>();
        for (var i = 0; i < 23; i++)
        {
            // Pairs share a timestamp, so the id tie-break is part of what the pages cross.
            var id = $"{Guid.NewGuid():N}";
            await Store.CreateSessionAsync(NewSessionAt(id, app, user, Epoch.AddMilliseconds(i / 2)), Ct);
            expected.Add(id);
        }

        var all = await IdsAsync(new SessionQuery { AppName = app, UserId = user, Limit = 1000 });
        var pages = new List<IReadOnlyList<Session>>();
        SessionCursor? cursor = null;
        do
        {
            var page = await Store.ListSessionsAsync(new SessionQuery { AppName = app, UserId = user, Limit = 5, After = cursor }, Ct);
            pages.Add(page.Sessions);
            cursor = page.Next;
            pages.Count.ShouldBeLessThan(10, "the pages should have ended after five");
        }
        while (cursor is not null);

        pages.Select(p => p.Count).ShouldBe([5, 5, 5, 5, 3]);
        pages.SelectMany(p => p).Select(s => s.Id).ShouldBe(all);
        all.ShouldBe(expected, ignoreOrder: true);
    }

    [Fact]
    public async Task A_full_last_page_has_no_next_cursor()
    {
        var app = Unique("app");
        for (var i = 0; i < 4; i++)
        {
            await CreateAsync(app, Unique("user"));
        }

        var first = await Store.ListSessionsAsync(new SessionQuery { AppName = app, Limit = 2 }, Ct);
        var second = await Store.ListSessionsAsync(new SessionQuery { AppName = app, Limit = 2, After = first.Next }, Ct);

        first.Next.ShouldNotBeNull();
        first.Next.Id.ShouldBe(first.Sessions[^1].Id);
        first.Next.UpdatedAtUnixMs.ShouldBe(first.Sessions[^1].UpdatedAt.ToUnixTimeMilliseconds());
        second.Sessions.Count.ShouldBe(2);
        second.Next.ShouldBeNull();
    }

    [Fact]
    public async Task Paging_while_sessions_are_created_never_repeats_or_skips_existing_ones()
    {
        var app = Unique("app");
        var user = Unique("user");
        var existing = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            existing.Add((await CreateAsync(app, user)).Id);
        }

        // A writer creates sessions the whole time the pages are read, and each page is also followed by one
        // more creation awaited in line, so inserts are sure to land between pages.
        using var stop = new CancellationTokenSource();
        var created = new ConcurrentQueue<string>();
        var creator = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                created.Enqueue((await CreateAsync(app, user)).Id);
            }
        }, Ct);

        var seen = new List<string>();
        SessionCursor? cursor = null;
        do
        {
            var page = await Store.ListSessionsAsync(new SessionQuery { AppName = app, UserId = user, Limit = 3, After = cursor }, Ct);
            seen.AddRange(page.Sessions.Select(s => s.Id));
            cursor = page.Next;
            created.Enqueue((await CreateAsync(app, user)).Id);
        }
        while (cursor is not null);

        await stop.CancelAsync();
        await creator;
        seen.Count.ShouldBe(seen.Distinct().Count(), "no session may appear on two pages");
        existing.Except(seen).ShouldBeEmpty("every session that existed before paging began must appear");
        created.Count.ShouldBeGreaterThanOrEqualTo(14);
    }

    [Fact]
    public async Task Listed_sessions_carry_merged_state_but_no_events()
    {
        var app = Unique("app");
        var user = Unique("user");
        var one = await CreateAsync(app, user, state: Map(("own", 1), ("user:shared", "u"), ("app:global", "g")));
        var two = await CreateAsync(app, user, state: Map(("own", 2)));
        await AppendAsync(two.Id, Event("a"));

        var sessions = (await Store.ListSessionsAsync(new SessionQuery { AppName = app, UserId = user }, Ct)).Sessions;

        var listedOne = sessions.Single(s => s.Id == one.Id);
        var listedTwo = sessions.Single(s => s.Id == two.Id);
        listedOne.State["own"].GetInt32().ShouldBe(1);
        listedTwo.State["own"].GetInt32().ShouldBe(2);
        foreach (var session in sessions)
        {
            session.State["user:shared"].GetString().ShouldBe("u");
            session.State["app:global"].GetString().ShouldBe("g");
        }

        listedTwo.LastSeq.ShouldBe(1);
    }

    [Fact]
    public async Task Apps_are_listed_once_each_in_name_order()
    {
        var stem = Guid.NewGuid().ToString("N");
        await CreateAsync($"{stem}-b", Unique("user"));
        await CreateAsync($"{stem}-a", Unique("user"));
        await CreateAsync($"{stem}-b", Unique("user"));

        var apps = await Store.ListAppsAsync(Ct);

        apps.Where(a => a.StartsWith(stem, StringComparison.Ordinal)).ShouldBe([$"{stem}-a", $"{stem}-b"]);
    }

    private async Task<List<string>> IdsAsync(SessionQuery query) =>
        (await Store.ListSessionsAsync(query, Ct)).Sessions.Select(s => s.Id).ToList();

    [Fact]
    public async Task Visibility_limits_a_list_to_own_sessions_team_sessions_of_own_teams_and_own_apps()
    {
        var app = Unique("app");
        var otherApp = Unique("app");
        var team = Unique("team");
        var own = await CreateAsync(app, "alice");
        var teamSession = await CreateAsync(app, "bob", teamId: team, scope: SessionScope.Team);
        await CreateAsync(app, "bob");
        await CreateAsync(app, "carol", teamId: Unique("team"), scope: SessionScope.Team);
        var ownInOtherApp = await CreateAsync(otherApp, "alice");

        var visible = new SessionVisibility("alice", new HashSet<string> { team }, null);
        var seen = await Store.ListSessionsAsync(new SessionQuery { AppName = app, Limit = 100, VisibleTo = visible }, Ct);
        seen.Sessions.Select(s => s.Id).Order().ShouldBe(new[] { own.Id, teamSession.Id }.Order());

        var limitedToApp = visible with { Apps = new HashSet<string> { otherApp } };
        var inApp = await Store.ListSessionsAsync(new SessionQuery { UserId = "alice", Limit = 100, VisibleTo = limitedToApp }, Ct);
        inApp.Sessions.Select(s => s.Id).ShouldBe([ownInOtherApp.Id]);

        var noApps = visible with { Apps = new HashSet<string>() };
        (await Store.ListSessionsAsync(new SessionQuery { UserId = "alice", Limit = 100, VisibleTo = noApps }, Ct)).Sessions.ShouldBeEmpty();
    }
}
