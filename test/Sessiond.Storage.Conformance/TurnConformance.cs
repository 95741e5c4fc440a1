using Sessiond.Core.Access;
using Sessiond.Core.Errors;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Shouldly;

namespace Sessiond.Storage.Conformance;

/// <summary>The runtime's part of the store: run fields with a status compare-and-set, and the durable follow-up queue.</summary>
public abstract class TurnConformance(IStoreFixture fixture) : StoreConformanceBase(fixture)
{
    private static readonly string[] Startable = [SessionStatus.Idle, SessionStatus.Failed];

    [Fact]
    public async Task Run_fields_change_and_read_back_and_a_status_change_is_a_status_notice()
    {
        var app = Unique("app");
        var session = await CreateAsync(app, "u");
        var permissions = new SessionPermissions(["state_*"], ["shell"], ["rm"]);

        var running = await Store.SetRunStateAsync(session.Id, new RunStateChange(Epoch)
        {
            Status = SessionStatus.Running, FromStatuses = Startable, Agent = "root", ModelOverride = "fast", Permissions = permissions,
        }, Ct);
        var read = await Store.GetSessionAsync(session.Id, Ct);

        running.Status.ShouldBe(SessionStatus.Running);
        read!.Status.ShouldBe(SessionStatus.Running);
        read.Agent.ShouldBe("root");
        read.ModelOverride.ShouldBe("fast");
        read.Permissions.Allow.ShouldBe(["state_*"]);
        read.Permissions.Ask.ShouldBe(["shell"]);
        read.Permissions.Deny.ShouldBe(["rm"]);
        var feed = await Store.ReadFeedAsync(app, "u", 0, 10, Ct);
        feed[^1].Kind.ShouldBe(FeedNoticeKind.Status);
        feed[^1].Status.ShouldBe(SessionStatus.Running);

        var cleared = await Store.SetRunStateAsync(session.Id, new RunStateChange(Epoch) { ModelOverride = "" }, Ct);
        cleared.ModelOverride.ShouldBeNull();
        cleared.Agent.ShouldBe("root");
        (await Store.ReadFeedAsync(app, "u", 0, 10, Ct))[^1].Kind.ShouldBe(FeedNoticeKind.Updated);
    }

    [Fact]
    public async Task Starting_from_a_status_the_session_is_not_in_is_session_busy_and_changes_nothing()
    {
        var session = await CreateAsync(Unique("app"), "u");
        await Store.SetRunStateAsync(session.Id, new RunStateChange(Epoch) { Status = SessionStatus.Running, FromStatuses = Startable }, Ct);

        var error = await Should.ThrowAsync<SessiondException>(() => Store.SetRunStateAsync(
            session.Id, new RunStateChange(Epoch) { Status = SessionStatus.Running, FromStatuses = Startable, Agent = "other" }, Ct));

        error.Code.ShouldBe(ErrorCodes.SessionBusy);
        (await Store.GetSessionAsync(session.Id, Ct))!.Agent.ShouldBeNull();
    }

    [Fact]
    public async Task Racing_starts_let_exactly_one_through()
    {
        var session = await CreateAsync(Unique("app"), "u");

        var attempts = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            try
            {
                await Store.SetRunStateAsync(
                    session.Id, new RunStateChange(Epoch) { Status = SessionStatus.Running, FromStatuses = Startable }, Ct);
                return true;
            }
            catch (SessiondException e) when (e.Code == ErrorCodes.SessionBusy)
            {
                return false;
            }
        }));

        attempts.Count(won => won).ShouldBe(1);
    }

    [Fact]
    public async Task Run_state_of_a_missing_session_is_session_not_found()
    {
        var error = await Should.ThrowAsync<SessiondException>(() =>
            Store.SetRunStateAsync(Unique("missing"), new RunStateChange(Epoch) { Status = SessionStatus.Running }, Ct));
        error.Code.ShouldBe(ErrorCodes.SessionNotFound);
    }

    [Fact]
    public async Task Followups_queue_in_order_are_taken_once_and_a_repeated_key_is_a_duplicate_even_after_it_ran()
    {
        var session = await CreateAsync(Unique("app"), "u");

        var first = await Store.EnqueueFollowupAsync(new NewFollowup(session.Id, "k1", "\"one\"", Epoch), Ct);
        var second = await Store.EnqueueFollowupAsync(new NewFollowup(session.Id, "k2", "\"two\"", Epoch), Ct);
        var again = await Store.EnqueueFollowupAsync(new NewFollowup(session.Id, "k1", "\"ignored\"", Epoch), Ct);

        first.Duplicate.ShouldBeFalse();
        again.Duplicate.ShouldBeTrue();
        again.Followup.ShouldBe(first.Followup);
        (await Store.CountFollowupsAsync(session.Id, Ct)).ShouldBe(2);
        (await Store.ListSessionsWithFollowupsAsync(Ct)).ShouldContain(session.Id);

        (await Store.TakeFollowupAsync(session.Id, Ct))!.InputJson.ShouldBe("\"one\"");
        (await Store.EnqueueFollowupAsync(new NewFollowup(session.Id, "k1", "\"late\"", Epoch), Ct)).Duplicate.ShouldBeTrue();
        (await Store.TakeFollowupAsync(session.Id, Ct))!.Id.ShouldBe(second.Followup.Id);
        (await Store.TakeFollowupAsync(session.Id, Ct)).ShouldBeNull();
        (await Store.CountFollowupsAsync(session.Id, Ct)).ShouldBe(0);
        (await Store.ListSessionsWithFollowupsAsync(Ct)).ShouldNotContain(session.Id);
    }

    [Fact]
    public async Task Concurrent_takers_never_get_the_same_followup()
    {
        var session = await CreateAsync(Unique("app"), "u");
        for (var i = 0; i < 10; i++)
        {
            await Store.EnqueueFollowupAsync(new NewFollowup(session.Id, $"k{i}", $"{i}", Epoch), Ct);
        }

        var taken = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Store.TakeFollowupAsync(session.Id, Ct)));

        taken.OfType<QueuedFollowup>().Select(f => f.Key).Order().ShouldBe(Enumerable.Range(0, 10).Select(i => $"k{i}").Order());
    }

    [Fact]
    public async Task Followups_are_durable_and_go_with_their_session()
    {
        var name = Unique("followups");
        var store = await Fixture.OpenStoreAsync(name, Ct);
        var session = await new SessionService(store, Limits, TimeProvider.System)
            .CreateAsync(Caller.System, new CreateSessionCommand { AppName = "a", UserId = "u" }, Ct);
        await store.EnqueueFollowupAsync(new NewFollowup(session.Id, "k", "\"later\"", Epoch), Ct);
        await Fixture.CloseStoreAsync(store);

        var reopened = await Fixture.OpenStoreAsync(name, Ct);
        try
        {
            (await reopened.CountFollowupsAsync(session.Id, Ct)).ShouldBe(1);
            await reopened.DeleteSessionAsync(session.Id, Ct);
            (await reopened.CountFollowupsAsync(session.Id, Ct)).ShouldBe(0);
            var error = await Should.ThrowAsync<SessiondException>(() =>
                reopened.EnqueueFollowupAsync(new NewFollowup(session.Id, "k2", "1", Epoch), Ct));
            error.Code.ShouldBe(ErrorCodes.SessionNotFound);
        }
        finally
        {
            await Fixture.CloseStoreAsync(reopened);
        }
    }
}
