using System.Collections.Concurrent;
using Sessiond.Core.Errors;
using Shouldly;

namespace Sessiond.Storage.Conformance;

/// <summary>Many writers at once: no lost update, no duplicate or missing seq, exactly one winner for a contested id.</summary>
public abstract class ConcurrencyConformance(IStoreFixture fixture) : StoreConformanceBase(fixture)
{
    [Fact]
    public async Task Optimistic_writers_on_one_session_lose_no_update()
    {
        const int writers = 64;
        var session = await CreateAsync(Unique("app"), Unique("user"));
        var conflicts = 0;

        // Each writer reads the session's last seq and appends guarded by it, retrying on a conflict from the actual
        // value the conflict reports: the loop every client of the expectedLastSeq guard runs.
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var expected = (await Store.GetSessionAsync(session.Id, Ct))!.LastSeq;
            for (var attempt = 0; ; attempt++)
            {
                attempt.ShouldBeLessThan(writers * 4, "a writer should get its turn once the others have written");
                try
                {
                    await AppendAsync(session.Id, expected, null, Event($"w{w}", Map(($"by{w}", w))));
                    return;
                }
                catch (SeqConflictException conflict)
                {
                    Interlocked.Increment(ref conflicts);
                    conflict.ExpectedLastSeq.ShouldBe(expected);
                    expected = conflict.ActualLastSeq;
                }
            }
        }, Ct)));

        var events = await AllEventsAsync(session.Id);
        events.Select(e => e.Seq).ShouldBe(Enumerable.Range(1, writers).Select(i => (long)i));
        events.Select(TextOf).Order().ShouldBe(Enumerable.Range(0, writers).Select(w => $"w{w}").Order());
        var read = await Store.GetSessionAsync(session.Id, Ct);
        read!.LastSeq.ShouldBe(writers);
        read.State.Count.ShouldBe(writers);
    }

    [Fact]
    public async Task Unguarded_writers_on_one_session_get_distinct_consecutive_seqs()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"));

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => AppendAsync(session.Id, Event($"a{i}"), Event($"b{i}")), Ct)));

        // Each batch holds two consecutive seqs, and together they are exactly 1..100.
        foreach (var result in results)
        {
            result.Events[1].Seq.ShouldBe(result.Events[0].Seq + 1);
            result.LastSeq.ShouldBe(result.Events[1].Seq);
        }

        results.SelectMany(r => r.Events).Select(e => e.Seq).Order().ShouldBe(Enumerable.Range(1, 100).Select(i => (long)i));
        (await AllEventsAsync(session.Id)).Select(e => e.Seq).ShouldBe(Enumerable.Range(1, 100).Select(i => (long)i));
    }

    [Fact]
    public async Task Writers_on_many_sessions_each_get_a_gapless_sequence()
    {
        const int sessionCount = 16;
        const int writersPerSession = 8;
        const int appendsPerWriter = 5;
        var app = Unique("app");
        var sessions = await Task.WhenAll(Enumerable.Range(0, sessionCount).Select(_ => CreateAsync(app, Unique("user"))));

        await Task.WhenAll(
            from session in sessions
            from writer in Enumerable.Range(0, writersPerSession)
            select Task.Run(async () =>
            {
                for (var i = 0; i < appendsPerWriter; i++)
                {
                    await AppendAsync(session.Id, Event($"{writer}-{i}", Map(("last", writer))));
                }
            }, Ct));

        const long expected = writersPerSession * appendsPerWriter;
        foreach (var session in sessions)
        {
            (await AllEventsAsync(session.Id)).Select(e => e.Seq).ShouldBe(Enumerable.Range(1, (int)expected).Select(i => (long)i));
            (await Store.GetSessionAsync(session.Id, Ct))!.LastSeq.ShouldBe(expected);
        }
    }

    [Fact]
    public async Task Exactly_one_of_many_creators_of_the_same_id_wins()
    {
        var id = Unique("ses");
        var app = Unique("app");
        var outcomes = new ConcurrentBag<string>();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            try
            {
                await Store.CreateSessionAsync(NewSessionAt(id, app, $"user{i}", Epoch), Ct);
                outcomes.Add($"won:user{i}");
            }
            catch (SessiondException error) when (error.Code == ErrorCodes.SessionExists)
            {
                outcomes.Add("exists");
            }
        }, Ct)));

        var winners = outcomes.Where(o => o.StartsWith("won:", StringComparison.Ordinal)).ToList();
        winners.Count.ShouldBe(1);
        outcomes.Count(o => o == "exists").ShouldBe(19);
        (await Store.GetSessionAsync(id, Ct))!.UserId.ShouldBe(winners[0]["won:".Length..]);
    }

    [Fact]
    public async Task Concurrent_retries_with_one_idempotency_key_commit_once()
    {
        var session = await CreateAsync(Unique("app"), Unique("user"));
        var key = Unique("key");

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => AppendAsync(session.Id, null, key, Event("once")), Ct)));

        results.Count(r => !r.Replayed).ShouldBe(1);
        results.Select(r => r.LastSeq).Distinct().ShouldBe([1L]);
        (await AllEventsAsync(session.Id)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Appends_interleaved_with_deletes_never_leave_orphan_events()
    {
        var app = Unique("app");
        var sessions = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => CreateAsync(app, Unique("user"))));

        await Task.WhenAll(sessions.SelectMany(session => new[]
        {
            Task.Run(async () =>
            {
                for (var i = 0; i < 10; i++)
                {
                    try
                    {
                        await AppendAsync(session.Id, Event($"e{i}"));
                    }
                    catch (SessiondException error) when (error.Code == ErrorCodes.SessionNotFound)
                    {
                        return;
                    }
                }
            }, Ct),
            Task.Run(() => Store.DeleteSessionAsync(session.Id, Ct), Ct),
        }));

        foreach (var session in sessions)
        {
            (await Store.GetSessionAsync(session.Id, Ct)).ShouldBeNull();
            (await AllEventsAsync(session.Id)).ShouldBeEmpty();
        }
    }

}
