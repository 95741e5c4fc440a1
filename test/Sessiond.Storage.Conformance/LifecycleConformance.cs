using Sessiond.Core.Access;
using Sessiond.Core.Errors;
using Sessiond.Core.Events;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Core.State;
using Shouldly;

namespace Sessiond.Storage.Conformance;

/// <summary>Create, read, update and delete, and durability (invariant 2) across closing and reopening the store.</summary>
public abstract class LifecycleConformance(IStoreFixture fixture) : StoreConformanceBase(fixture)
{
    [Fact]
    public async Task Created_session_is_returned_and_read_back_with_every_field()
    {
        var id = Unique("ses");
        var app = Unique("app");
        var team = Unique("team");
        var request = new NewSession(
            id, app, "user-1", team, SessionScope.Team, "A title", Map(("source", "test"), ("n", 3)),
            [Event("hello", usage: new EventUsage(3, 4, 0.5m))], StateChanges.FromDeltas([Map(("k", "v"))]),
            new EventUsage(3, 4, 0.5m), Epoch);

        var created = await Store.CreateSessionAsync(request, Ct);
        var read = await Store.GetSessionAsync(id, Ct);

        foreach (var session in new[] { created, read! })
        {
            session.Id.ShouldBe(id);
            session.AppName.ShouldBe(app);
            session.UserId.ShouldBe("user-1");
            session.TeamId.ShouldBe(team);
            session.Scope.ShouldBe(SessionScope.Team);
            session.Title.ShouldBe("A title");
            session.Status.ShouldBe(SessionStatus.Idle);
            session.CreatedAt.ShouldBe(Epoch);
            session.UpdatedAt.ShouldBe(Epoch);
            session.LastSeq.ShouldBe(1);
            session.Starred.ShouldBeFalse();
            session.Metadata.Keys.Order().ShouldBe(["n", "source"]);
            session.Metadata["source"].GetString().ShouldBe("test");
            session.Usage.ShouldBe(new EventUsage(3, 4, 0.5m));
            session.State["k"].GetString().ShouldBe("v");
            session.Permissions.ShouldBe(SessionPermissions.Empty, new PermissionsComparer());
        }

        (await Store.ListAppsAsync(Ct)).ShouldContain(app);
    }

    [Fact]
    public async Task Creating_a_taken_id_is_session_exists_and_leaves_the_first_untouched()
    {
        var first = await CreateAsync(Unique("app"), Unique("user"), state: Map(("k", 1)), events: [Event("a")]);

        var error = await Should.ThrowAsync<SessiondException>(() => Service.CreateAsync(Caller.System, new CreateSessionCommand
            {
                Id = first.Id,
                AppName = Unique("app"),
                UserId = Unique("user"),
                State = Map(("k", 2)),
                Events = [Event("b")],
            },
            Ct));

        error.Code.ShouldBe(ErrorCodes.SessionExists);
        var read = await Store.GetSessionAsync(first.Id, Ct);
        read!.AppName.ShouldBe(first.AppName);
        read.State["k"].GetInt32().ShouldBe(1);
        (await AllEventsAsync(first.Id)).Select(TextOf).ShouldBe(["a"]);
    }

    [Fact]
    public async Task Reading_a_missing_session_is_null()
    {
        (await Store.GetSessionAsync(Unique("ses"), Ct)).ShouldBeNull();
    }

    [Fact]
    public async Task Update_changes_title_starred_and_merges_metadata()
    {
        var id = Unique("ses");
        await Store.CreateSessionAsync(
            NewSessionAt(id, Unique("app"), Unique("user"), Epoch) with { Title = "old", Metadata = Map(("a", 1), ("b", 2)) }, Ct);

        var updated = await Store.UpdateSessionAsync(
            id, new SessionPatch("new", true, Map(("b", null), ("c", 3)), Epoch.AddHours(1)), Ct);

        updated.Title.ShouldBe("new");
        updated.Starred.ShouldBeTrue();
        updated.Metadata.Keys.Order().ShouldBe(["a", "c"]);
        updated.UpdatedAt.ShouldBe(Epoch.AddHours(1));
        var read = await Store.GetSessionAsync(id, Ct);
        read!.Title.ShouldBe("new");
        read.Starred.ShouldBeTrue();
        read.Metadata.Keys.Order().ShouldBe(["a", "c"]);
        read.Metadata["c"].GetInt32().ShouldBe(3);
        read.UpdatedAt.ShouldBe(Epoch.AddHours(1));
        read.CreatedAt.ShouldBe(Epoch);

        // Null leaves a field alone; an empty title clears it.
        await Store.UpdateSessionAsync(id, new SessionPatch(null, null, null, Epoch.AddHours(2)), Ct);
        (await Store.GetSessionAsync(id, Ct))!.Title.ShouldBe("new");
        var cleared = await Store.UpdateSessionAsync(id, new SessionPatch("", false, null, Epoch.AddHours(3)), Ct);
        cleared.Title.ShouldBeNull();
        cleared.Starred.ShouldBeFalse();
        var final = await Store.GetSessionAsync(id, Ct);
        final!.Title.ShouldBeNull();
        final.Starred.ShouldBeFalse();
        final.Metadata.Keys.Order().ShouldBe(["a", "c"]);
    }

    [Fact]
    public async Task Update_keeps_state_events_and_usage()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"), state: Map(("k", 1), ("user:u", 2)));
        await AppendAsync(session.Id, Event("a", usage: new EventUsage(1, 1, 1m)));

        var updated = await Service.UpdateAsync(Caller.System, session.Id, new UpdateSessionCommand { Title = "t" }, Ct);

        updated.LastSeq.ShouldBe(1);
        updated.State["k"].GetInt32().ShouldBe(1);
        updated.State["user:u"].GetInt32().ShouldBe(2);
        updated.Usage.ShouldBe(new EventUsage(1, 1, 1m));
    }

    [Fact]
    public async Task Updating_a_missing_session_is_session_not_found()
    {
        var error = await Should.ThrowAsync<SessiondException>(() =>
            Store.UpdateSessionAsync(Unique("ses"), new SessionPatch("t", null, null, Epoch), Ct));

        error.Code.ShouldBe(ErrorCodes.SessionNotFound);
    }

    [Fact]
    public async Task Delete_removes_the_session_its_events_state_and_keys_but_keeps_user_and_app_state()
    {
        var app = Unique("app");
        var user = Unique("user");
        var session = await CreateAsync(app, user, state: Map(("own", 1), ("user:u", 1), ("app:a", 1)));
        var key = Unique("key");
        await AppendAsync(session.Id, null, key, Event("a"));
        await AppendAsync(session.Id, Event("b"));

        (await Store.DeleteSessionAsync(session.Id, Ct)).ShouldBeTrue();

        (await Store.GetSessionAsync(session.Id, Ct)).ShouldBeNull();
        (await AllEventsAsync(session.Id)).ShouldBeEmpty();
        (await Store.ListSessionsAsync(new SessionQuery { AppName = app }, Ct)).Sessions.ShouldBeEmpty();
        (await Store.GetUserStateAsync(app, user, Ct))["u"].GetInt32().ShouldBe(1);
        (await Store.GetAppStateAsync(app, Ct))["a"].GetInt32().ShouldBe(1);
        (await Store.DeleteSessionAsync(session.Id, Ct)).ShouldBeFalse();

        // A new session under the same id starts over: no old events, state or idempotency keys.
        var reborn = await Service.CreateAsync(Caller.System, new CreateSessionCommand { Id = session.Id, AppName = app, UserId = user }, Ct);
        reborn.LastSeq.ShouldBe(0);
        reborn.State.Keys.ShouldNotContain("own");
        reborn.State["user:u"].GetInt32().ShouldBe(1);
        var again = await AppendAsync(session.Id, null, key, Event("a"));
        again.Replayed.ShouldBeFalse();
        again.Events.Single().Seq.ShouldBe(1);
    }

    [Fact]
    public async Task Deleting_a_missing_session_is_false()
    {
        (await Store.DeleteSessionAsync(Unique("ses"), Ct)).ShouldBeFalse();
    }

    [Fact]
    public async Task Everything_acknowledged_survives_closing_and_reopening_the_store()
    {
        var storage = Unique("durable");
        var app = Unique("app");
        var user = Unique("user");
        var key = Unique("key");
        var store = await Fixture.OpenStoreAsync(storage, Ct);
        var service = new SessionService(store, Limits, TimeProvider.System);
        var session = await service.CreateAsync(Caller.System, new CreateSessionCommand { AppName = app, UserId = user, Title = "kept", State = Map(("user:u", 1), ("app:a", 2)) }, Ct);
        var first = await service.AppendAsync(Caller.System, session.Id, new AppendEventsCommand { Events = [Event("a", Map(("k", "v")), new EventUsage(1, 2, 0.5m))] }, key, Ct);
        await service.AppendAsync(Caller.System, session.Id, new AppendEventsCommand { Events = [Event("b"), Event("c")] }, null, Ct);
        await service.UpdateAsync(Caller.System, session.Id, new UpdateSessionCommand { Starred = true, Metadata = Map(("m", 1)) }, Ct);
        await Fixture.CloseStoreAsync(store);

        var reopened = await Fixture.OpenStoreAsync(storage, Ct);
        try
        {
            var read = await reopened.GetSessionAsync(session.Id, Ct);
            read.ShouldNotBeNull();
            read.Title.ShouldBe("kept");
            read.Starred.ShouldBeTrue();
            read.Metadata["m"].GetInt32().ShouldBe(1);
            read.LastSeq.ShouldBe(3);
            read.Usage.ShouldBe(new EventUsage(1, 2, 0.5m));
            read.State["k"].GetString().ShouldBe("v");
            read.State["user:u"].GetInt32().ShouldBe(1);
            read.State["app:a"].GetInt32().ShouldBe(2);
            (await AllEventsAsync(session.Id, reopened)).Select(TextOf).ShouldBe(["a", "b", "c"]);
            (await reopened.ListAppsAsync(Ct)).ShouldContain(app);

            // The idempotency key outlived the restart, and numbering continues where it stopped.
            var reopenedService = new SessionService(reopened, Limits, TimeProvider.System);
            var retry = await reopenedService.AppendAsync(Caller.System,
                session.Id, new AppendEventsCommand { Events = [Event("a", Map(("k", "v")), new EventUsage(1, 2, 0.5m))] }, key, Ct);
            retry.Replayed.ShouldBeTrue();
            retry.LastSeq.ShouldBe(1);
            retry.Events.Single().Json.ShouldBe(first.Events.Single().Json);
            var reused = await Should.ThrowAsync<SessiondException>(() => reopenedService.AppendAsync(Caller.System,
                session.Id, new AppendEventsCommand { Events = [Event("other")] }, key, Ct));
            reused.Code.ShouldBe(ErrorCodes.IdempotencyKeyReused);
            (await reopenedService.AppendAsync(Caller.System, session.Id, new AppendEventsCommand { Events = [Event("d")] }, null, Ct))
                .Events.Single().Seq.ShouldBe(4);
        }
        finally
        {
            await Fixture.CloseStoreAsync(reopened);
        }
    }

    private sealed class PermissionsComparer : IEqualityComparer<SessionPermissions>
    {
        public bool Equals(SessionPermissions? x, SessionPermissions? y) =>
            x is not null && y is not null && x.Allow.SequenceEqual(y.Allow) && x.Ask.SequenceEqual(y.Ask) && x.Deny.SequenceEqual(y.Deny);

        public int GetHashCode(SessionPermissions obj) => obj.Allow.Count;
    }
}
