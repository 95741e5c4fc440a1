using Sessiond.Core.Access;
using System.Collections.Concurrent;
using Sessiond.Core.Errors;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Shouldly;

namespace Sessiond.Storage.Conformance;

/// <summary>The durable per-user feed of session changes, and the commit listener that live streams hang on.</summary>
public abstract class FeedConformance(IStoreFixture fixture) : StoreConformanceBase(fixture)
{
    [Fact]
    public async Task The_feed_records_create_update_append_and_delete_in_order()
    {
        var app = Unique("app");
        var session = await CreateAsync(app, "u", title: "first");
        await AppendAsync(session.Id, Event("one"), Event("two"));
        await Service.UpdateAsync(Caller.System, session.Id, new UpdateSessionCommand { Title = "renamed" }, Ct);
        await Service.DeleteAsync(Caller.System, session.Id, Ct);

        var feed = await Store.ReadFeedAsync(app, "u", 0, 100, Ct);

        feed.Select(n => n.Kind).ShouldBe([FeedNoticeKind.Created, FeedNoticeKind.Updated, FeedNoticeKind.Updated, FeedNoticeKind.Deleted]);
        feed.ShouldAllBe(n => n.SessionId == session.Id && n.AppName == app && n.UserId == "u");
        feed.Select(n => n.Id).ShouldBe(feed.Select(n => n.Id).Order());
        feed[0].Title.ShouldBe("first");
        feed[1].LastSeq.ShouldBe(2);
        feed[2].Title.ShouldBe("renamed");
        feed[3].LastSeq.ShouldBe(2);
    }

    [Fact]
    public async Task The_feed_resumes_after_a_cursor_and_holds_only_that_users_sessions_of_that_app()
    {
        var app = Unique("app");
        var mine = await CreateAsync(app, "me");
        await CreateAsync(app, "someone-else");
        await CreateAsync(Unique("other-app"), "me");
        await AppendAsync(mine.Id, Event("x"));

        var all = await Store.ReadFeedAsync(app, "me", 0, 100, Ct);
        var rest = await Store.ReadFeedAsync(app, "me", all[0].Id, 100, Ct);

        all.Count.ShouldBe(2);
        all.ShouldAllBe(n => n.SessionId == mine.Id);
        rest.Single().Kind.ShouldBe(FeedNoticeKind.Updated);
        (await Store.ReadFeedAsync(app, "me", all[^1].Id, 100, Ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Writes_that_change_nothing_leave_no_notice()
    {
        var app = Unique("app");
        var session = await CreateAsync(app, "u");
        await AppendAsync(session.Id, null, "key", Event("once"));
        var before = await Store.ReadFeedAsync(app, "u", 0, 100, Ct);

        await AppendAsync(session.Id, null, "key", Event("once"));
        await Should.ThrowAsync<SeqConflictException>(() => AppendAsync(session.Id, 0, null, Event("stale")));

        (await Store.ReadFeedAsync(app, "u", 0, 100, Ct)).Count.ShouldBe(before.Count);
    }

    [Fact]
    public async Task The_listener_hears_every_commit_in_order_with_the_stored_events()
    {
        var listener = new RecordingListener();
        var store = await Fixture.OpenStoreAsync(Unique("listened"), Ct, listener);
        try
        {
            var service = new SessionService(store, Limits, TimeProvider.System);
            var app = Unique("app");
            var session = await service.CreateAsync(Caller.System, new CreateSessionCommand { AppName = app, UserId = "u" }, Ct);
            var writers = Enumerable.Range(0, 32).Select(async w =>
            {
                for (var i = 0; i < 10; i++)
                {
                    await service.AppendAsync(Caller.System, session.Id, new AppendEventsCommand { Events = [Event($"{w}-{i}")] }, null, Ct);
                }
            });
            await Task.WhenAll(writers);

            var changes = listener.Changes.ToList();
            changes.Count.ShouldBe(1 + 320);
            changes.ShouldAllBe(c => c.SessionId == session.Id);
            changes[0].Notice!.Kind.ShouldBe(FeedNoticeKind.Created);
            // Appends committed together may share one notice, carried by the last of them; the listener hears exactly
            // the notices the feed stores, in feed order, and the last one has the session's final state.
            var notices = changes.Select(c => c.Notice).OfType<FeedNotice>().ToList();
            notices.Select(n => n.Id).ShouldBe((await store.ReadFeedAsync(app, "u", 0, 1000, Ct)).Select(n => n.Id));
            notices.Select(n => n.Id).ShouldBe(notices.Select(n => n.Id).Order());
            notices[^1].LastSeq.ShouldBe(320);
            changes.Skip(1).SelectMany(c => c.Events).Select(e => e.Seq).ShouldBe(Enumerable.Range(1, 320).Select(i => (long)i));
            var stored = await AllEventsAsync(session.Id, store);
            changes.Skip(1).SelectMany(c => c.Events).Select(e => e.Json).ShouldBe(stored.Select(e => e.Json));
        }
        finally
        {
            await Fixture.CloseStoreAsync(store);
        }
    }

    private sealed class RecordingListener : ICommitListener
    {
        public ConcurrentQueue<CommittedChange> Changes { get; } = new();

        public void OnCommitted(CommittedChange change) => Changes.Enqueue(change);
    }
}
