using System.Text.Json;
using Sessiond.Core.Errors;
using Sessiond.Core.Events;
using Shouldly;

namespace Sessiond.Storage.Conformance;

/// <summary>Invariants 1, 3, 4 and 5: seq numbering, atomic batches, the expected-seq guard and idempotency keys.</summary>
public abstract class AppendConformance(IStoreFixture fixture) : StoreConformanceBase(fixture)
{
    [Fact]
    public async Task Seq_starts_at_one_and_increases_without_gaps()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"));
        session.LastSeq.ShouldBe(0);

        var first = await AppendAsync(session.Id, Event("a"));
        var second = await AppendAsync(session.Id, Event("b"), Event("c"), Event("d"));
        var third = await AppendAsync(session.Id, Event("e"), Event("f"));

        first.Events.Select(e => e.Seq).ShouldBe([1L]);
        first.LastSeq.ShouldBe(1);
        second.Events.Select(e => e.Seq).ShouldBe([2L, 3L, 4L]);
        second.LastSeq.ShouldBe(4);
        third.Events.Select(e => e.Seq).ShouldBe([5L, 6L]);
        third.Replayed.ShouldBeFalse();

        var stored = await AllEventsAsync(session.Id);
        stored.Select(e => e.Seq).ShouldBe([1L, 2L, 3L, 4L, 5L, 6L]);
        stored.Select(TextOf).ShouldBe(["a", "b", "c", "d", "e", "f"]);
        (await Store.GetSessionAsync(session.Id, Ct))!.LastSeq.ShouldBe(6);
    }

    [Fact]
    public async Task Stored_json_carries_the_assigned_seq_and_round_trips_the_event()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"));
        await AppendAsync(session.Id, Event("first"));
        var result = await AppendAsync(session.Id, Event("hello", author: "helper") with { Id = "evt-fixed-1", TurnComplete = true });

        var returned = result.Events.Single();
        returned.ToEvent().Seq.ShouldBe(2);
        var stored = (await AllEventsAsync(session.Id))[1];
        stored.Json.ShouldBe(returned.Json);
        var evt = stored.ToEvent();
        evt.Seq.ShouldBe(2);
        evt.Id.ShouldBe("evt-fixed-1");
        evt.Author.ShouldBe("helper");
        evt.TurnComplete.ShouldBe(true);
        evt.Content!.Parts![0].Text.ShouldBe("hello");
        using var document = JsonDocument.Parse(stored.Json);
        document.RootElement.GetProperty("seq").GetInt64().ShouldBe(2);
    }

    [Fact]
    public async Task Create_with_events_numbers_them_from_one()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"), events: [Event("x"), Event("y")]);

        session.LastSeq.ShouldBe(2);
        (await AllEventsAsync(session.Id)).Select(e => e.Seq).ShouldBe([1L, 2L]);
        (await AppendAsync(session.Id, Event("z"))).Events.Single().Seq.ShouldBe(3);
    }

    [Fact]
    public async Task Append_to_a_missing_session_is_session_not_found()
    {
        var missing = Unique("ses");

        var error = await Should.ThrowAsync<SessiondException>(() => AppendAsync(missing, Event("a")));

        error.Code.ShouldBe(ErrorCodes.SessionNotFound);
        (await AllEventsAsync(missing)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Matching_expected_last_seq_commits()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"));

        (await AppendAsync(session.Id, 0, null, Event("a"))).LastSeq.ShouldBe(1);
        (await AppendAsync(session.Id, 1, null, Event("b"), Event("c"))).LastSeq.ShouldBe(3);
    }

    [Fact]
    public async Task Expected_last_seq_mismatch_is_a_conflict_and_changes_nothing()
    {
        var app = Unique("app");
        var user = Unique("user");
        var session = await CreateAsync(app, user);
        await AppendAsync(session.Id, Event("a", Map(("k", 1), ("user:u", 1), ("app:a", 1)), new EventUsage(1, 2, 0.5m)));
        await AppendAsync(session.Id, Event("b"));
        var before = await Store.GetSessionAsync(session.Id, Ct);

        var conflict = await Should.ThrowAsync<SeqConflictException>(() => AppendAsync(
            session.Id, 1, null,
            Event("c", Map(("k", 2), ("user:u", 2), ("app:a", 2), ("new", true)), new EventUsage(10, 10, 1m)),
            Event("d")));

        conflict.Code.ShouldBe(ErrorCodes.SeqConflict);
        conflict.ExpectedLastSeq.ShouldBe(1);
        conflict.ActualLastSeq.ShouldBe(2);
        var after = await Store.GetSessionAsync(session.Id, Ct);
        after!.LastSeq.ShouldBe(2);
        after.UpdatedAt.ShouldBe(before!.UpdatedAt);
        after.Usage.ShouldBe(before.Usage);
        after.State.Keys.Order().ShouldBe(before.State.Keys.Order());
        after.State["k"].GetInt32().ShouldBe(1);
        after.State.Keys.ShouldNotContain("new");
        (await Store.GetUserStateAsync(app, user, Ct))["u"].GetInt32().ShouldBe(1);
        (await Store.GetAppStateAsync(app, Ct))["a"].GetInt32().ShouldBe(1);
        (await AllEventsAsync(session.Id)).Select(TextOf).ShouldBe(["a", "b"]);
    }

    [Fact]
    public async Task Expected_last_seq_zero_only_matches_an_empty_session()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"), events: [Event("initial")]);

        var conflict = await Should.ThrowAsync<SeqConflictException>(() => AppendAsync(session.Id, 0, null, Event("a")));

        conflict.ActualLastSeq.ShouldBe(1);
        (await AllEventsAsync(session.Id)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Idempotent_retry_returns_the_first_result_and_writes_nothing()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"));
        await AppendAsync(session.Id, Event("before"));
        var key = Unique("key");

        var first = await AppendAsync(session.Id, null, key, Event("a", usage: new EventUsage(5, 7, 0.25m)), Event("b"));
        var retry = await AppendAsync(session.Id, null, key, Event("a", usage: new EventUsage(5, 7, 0.25m)), Event("b"));

        first.Replayed.ShouldBeFalse();
        retry.Replayed.ShouldBeTrue();
        retry.LastSeq.ShouldBe(first.LastSeq);
        retry.Events.Select(e => e.Seq).ShouldBe([2L, 3L]);
        retry.Events.Select(e => e.Json).ShouldBe(first.Events.Select(e => e.Json));
        var after = await Store.GetSessionAsync(session.Id, Ct);
        after!.LastSeq.ShouldBe(3);
        after.Usage.ShouldBe(new EventUsage(5, 7, 0.25m));
        (await AllEventsAsync(session.Id)).Count.ShouldBe(3);
    }

    [Fact]
    public async Task Idempotent_retry_after_later_appends_still_returns_the_first_result()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"));
        var key = Unique("key");
        var first = await AppendAsync(session.Id, null, key, Event("a"));
        await AppendAsync(session.Id, Event("b"));
        await AppendAsync(session.Id, Event("c"));

        var retry = await AppendAsync(session.Id, null, key, Event("a"));

        retry.Replayed.ShouldBeTrue();
        retry.LastSeq.ShouldBe(1);
        retry.Events.Single().Json.ShouldBe(first.Events.Single().Json);
        (await AllEventsAsync(session.Id)).Count.ShouldBe(3);
    }

    [Fact]
    public async Task Idempotency_is_checked_before_the_expected_last_seq()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"));
        var key = Unique("key");
        var first = await AppendAsync(session.Id, 0, key, Event("a"));

        // The session is now at 1, so only the key can make this retry succeed.
        var retry = await AppendAsync(session.Id, 0, key, Event("a"));

        retry.Replayed.ShouldBeTrue();
        retry.Events.Single().Json.ShouldBe(first.Events.Single().Json);
        (await AllEventsAsync(session.Id)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Same_key_with_a_different_body_is_rejected_and_writes_nothing()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"));
        var key = Unique("key");
        await AppendAsync(session.Id, null, key, Event("a"));

        var error = await Should.ThrowAsync<SessiondException>(() => AppendAsync(session.Id, null, key, Event("different", Map(("k", 1)))));

        error.Code.ShouldBe(ErrorCodes.IdempotencyKeyReused);
        (await AllEventsAsync(session.Id)).Select(TextOf).ShouldBe(["a"]);
        (await Store.GetSessionAsync(session.Id, Ct))!.State.Keys.ShouldNotContain("k");
    }

    [Fact]
    public async Task Same_key_on_another_session_is_independent()
    {
        var app = Unique("app");
        var user = Unique("user");
        var one = await CreateAsync(app, user);
        var two = await CreateAsync(app, user);
        await AppendAsync(two.Id, Event("two-first"));
        var key = Unique("key");

        var onResultOne = await AppendAsync(one.Id, null, key, Event("a"));
        var onResultTwo = await AppendAsync(two.Id, null, key, Event("a"));

        onResultOne.Replayed.ShouldBeFalse();
        onResultTwo.Replayed.ShouldBeFalse();
        onResultTwo.Events.Single().Seq.ShouldBe(2);
        (await AllEventsAsync(two.Id)).Count.ShouldBe(2);
    }

    [Fact]
    public async Task Usage_is_summed_over_create_and_appends()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"), events: [Event("x", usage: new EventUsage(1, 2, 0.001m))]);
        session.Usage.ShouldBe(new EventUsage(1, 2, 0.001m));

        await AppendAsync(session.Id, Event("a", usage: new EventUsage(10, 20, 0.1m)), Event("b", usage: new EventUsage(100, 200, 1.25m)));
        await AppendAsync(session.Id, Event("c"));
        await AppendAsync(session.Id, Event("d", usage: new EventUsage(0, 3, 0m)));

        (await Store.GetSessionAsync(session.Id, Ct))!.Usage.ShouldBe(new EventUsage(111, 225, 1.351m));
    }

    [Fact]
    public async Task Append_sets_updated_at_to_the_batch_time()
    {
        var id = Unique("ses");
        await Store.CreateSessionAsync(NewSessionAt(id, Unique("app"), Unique("user"), Epoch), Ct);

        await Store.AppendEventsAsync(BatchAt(id, Epoch.AddMinutes(5), Event("a")), Ct);

        var session = await Store.GetSessionAsync(id, Ct);
        session!.CreatedAt.ShouldBe(Epoch);
        session.UpdatedAt.ShouldBe(Epoch.AddMinutes(5));
    }

    [Fact]
    public async Task Read_events_pages_after_a_seq()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"));
        for (var i = 1; i <= 10; i++)
        {
            await AppendAsync(session.Id, Event($"e{i}"));
        }

        (await Store.ReadEventsAsync(session.Id, 0, 3, Ct)).Select(e => e.Seq).ShouldBe([1L, 2L, 3L]);
        (await Store.ReadEventsAsync(session.Id, 3, 4, Ct)).Select(e => e.Seq).ShouldBe([4L, 5L, 6L, 7L]);
        (await Store.ReadEventsAsync(session.Id, 8, 100, Ct)).Select(e => e.Seq).ShouldBe([9L, 10L]);
        (await Store.ReadEventsAsync(session.Id, 10, 100, Ct)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Reading_events_of_an_unknown_session_is_empty()
    {
        (await Store.ReadEventsAsync(Unique("ses"), 0, 10, Ct)).ShouldBeEmpty();
    }
}
