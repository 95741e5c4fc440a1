using System.Text;
using Shouldly;

namespace Sessiond.Storage.Conformance;

/// <summary>State scopes: session keys stay in their session, <c>user:</c> and <c>app:</c> keys are shared, <c>temp:</c> keys are never kept.</summary>
public abstract class StateConformance(IStoreFixture fixture) : StoreConformanceBase(fixture)
{
    [Fact]
    public async Task Session_state_is_set_overwritten_and_deleted_by_event_deltas()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"));

        await AppendAsync(session.Id, Event("a", Map(("a", 1), ("b", "two"), ("c", true))));
        await AppendAsync(session.Id, Event("b", Map(("a", 10))), Event("c", Map(("b", null), ("d", new[] { 1, 2 }))));

        var state = (await Store.GetSessionAsync(session.Id, Ct))!.State;
        state.Keys.Order().ShouldBe(["a", "c", "d"]);
        state["a"].GetInt32().ShouldBe(10);
        state["c"].GetBoolean().ShouldBeTrue();
        state["d"].GetRawText().ShouldBe("[1,2]");
    }

    [Fact]
    public async Task Session_keys_stay_in_their_own_session()
    {
        var app = Unique("app");
        var user = Unique("user");
        var one = await CreateAsync(app, user);
        var two = await CreateAsync(app, user);

        await AppendAsync(one.Id, Event("a", Map(("mine", 1))));

        (await Store.GetSessionAsync(one.Id, Ct))!.State.Keys.ShouldContain("mine");
        (await Store.GetSessionAsync(two.Id, Ct))!.State.Keys.ShouldNotContain("mine");
    }

    [Fact]
    public async Task User_keys_are_shared_by_the_users_sessions_of_the_app_only()
    {
        var app = Unique("app");
        var otherApp = Unique("app");
        var user = Unique("user");
        var otherUser = Unique("user");
        var writer = await CreateAsync(app, user);
        var sibling = await CreateAsync(app, user);
        var otherUsersSession = await CreateAsync(app, otherUser);
        var otherAppSession = await CreateAsync(otherApp, user);

        await AppendAsync(writer.Id, Event("a", Map(("user:theme", "dark"))));
        var later = await CreateAsync(app, user);

        (await Store.GetSessionAsync(sibling.Id, Ct))!.State["user:theme"].GetString().ShouldBe("dark");
        later.State["user:theme"].GetString().ShouldBe("dark");
        (await Store.GetSessionAsync(later.Id, Ct))!.State["user:theme"].GetString().ShouldBe("dark");
        (await Store.GetSessionAsync(otherUsersSession.Id, Ct))!.State.Keys.ShouldNotContain("user:theme");
        (await Store.GetSessionAsync(otherAppSession.Id, Ct))!.State.Keys.ShouldNotContain("user:theme");
        var userState = await Store.GetUserStateAsync(app, user, Ct);
        userState.Keys.ShouldBe(["theme"]);
        (await Store.GetUserStateAsync(app, otherUser, Ct)).ShouldBeEmpty();
        (await Store.GetUserStateAsync(otherApp, user, Ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task App_keys_are_shared_across_users_of_the_app_only()
    {
        var app = Unique("app");
        var otherApp = Unique("app");
        var writer = await CreateAsync(app, Unique("user"));
        var otherUser = await CreateAsync(app, Unique("user"));
        var otherAppSession = await CreateAsync(otherApp, Unique("user"));

        await AppendAsync(writer.Id, Event("a", Map(("app:motd", "hello"))));

        (await Store.GetSessionAsync(otherUser.Id, Ct))!.State["app:motd"].GetString().ShouldBe("hello");
        (await Store.GetSessionAsync(otherAppSession.Id, Ct))!.State.Keys.ShouldNotContain("app:motd");
        (await Store.GetAppStateAsync(app, Ct)).Keys.ShouldBe(["motd"]);
        (await Store.GetAppStateAsync(otherApp, Ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Temp_keys_are_never_stored()
    {
        var app = Unique("app");
        var user = Unique("user");
        var session = await CreateAsync(app, user, state: Map(("temp:initial", 1), ("kept", 1)));

        var result = await AppendAsync(session.Id, Event("a", Map(("temp:scratch", "x"), ("other", 2))));

        var state = (await Store.GetSessionAsync(session.Id, Ct))!.State;
        state.Keys.Order().ShouldBe(["kept", "other"]);
        var stored = (await AllEventsAsync(session.Id)).Single();
        Encoding.UTF8.GetString(stored.Json).ShouldNotContain("temp:");
        Encoding.UTF8.GetString(result.Events.Single().Json).ShouldNotContain("temp:");
        (await Store.GetUserStateAsync(app, user, Ct)).ShouldBeEmpty();
        (await Store.GetAppStateAsync(app, Ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Null_deletes_a_key_in_every_scope()
    {
        var app = Unique("app");
        var user = Unique("user");
        var session = await CreateAsync(app, user, state: Map(("s", 1), ("user:u", 1), ("app:a", 1), ("keep", 1)));

        await AppendAsync(session.Id, Event("a", Map(("s", null), ("user:u", null), ("app:a", null))));

        (await Store.GetSessionAsync(session.Id, Ct))!.State.Keys.ShouldBe(["keep"]);
        (await Store.GetUserStateAsync(app, user, Ct)).ShouldBeEmpty();
        (await Store.GetAppStateAsync(app, Ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Initial_state_with_prefixes_is_stored_by_scope_and_creates_no_event()
    {
        var app = Unique("app");
        var user = Unique("user");

        var created = await CreateAsync(app, user, state: Map(("topic", "sqlite"), ("user:lang", "en"), ("app:version", 3)));

        created.LastSeq.ShouldBe(0);
        created.State["topic"].GetString().ShouldBe("sqlite");
        created.State["user:lang"].GetString().ShouldBe("en");
        created.State["app:version"].GetInt32().ShouldBe(3);
        var read = await Store.GetSessionAsync(created.Id, Ct);
        read!.LastSeq.ShouldBe(0);
        read.State.Keys.Order().ShouldBe(["app:version", "topic", "user:lang"]);
        (await AllEventsAsync(created.Id)).ShouldBeEmpty();
        (await Store.GetUserStateAsync(app, user, Ct))["lang"].GetString().ShouldBe("en");
        (await Store.GetAppStateAsync(app, Ct))["version"].GetInt32().ShouldBe(3);
    }

    [Fact]
    public async Task Initial_events_apply_their_deltas_after_the_initial_state()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"),
            state: Map(("k", "initial"), ("gone", 1)),
            events: [Event("a", Map(("k", "from-event"), ("gone", null)))]);

        session.State.Keys.ShouldBe(["k"]);
        session.State["k"].GetString().ShouldBe("from-event");
        (await Store.GetSessionAsync(session.Id, Ct))!.State["k"].GetString().ShouldBe("from-event");
    }

    [Fact]
    public async Task State_of_an_unknown_app_or_user_is_empty()
    {
        (await Store.GetAppStateAsync(Unique("app"), Ct)).ShouldBeEmpty();
        (await Store.GetUserStateAsync(Unique("app"), Unique("user"), Ct)).ShouldBeEmpty();
    }
}
