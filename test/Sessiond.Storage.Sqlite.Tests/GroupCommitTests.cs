using Sessiond.Core.Access;
using Sessiond.Core.Errors;
using Sessiond.Core.Events;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Core.State;
using Sessiond.Core.Validation;
using Shouldly;

namespace Sessiond.Storage.Sqlite.Tests;

/// <summary>
/// The single writer: concurrent writes share one transaction, a failing write rolls back alone, callers hear back only
/// after COMMIT, and shutdown commits what is queued. The writer is held at an explicit barrier so batches are exact.
/// </summary>
public sealed class GroupCommitTests(SqliteStoreFixture fixture) : IClassFixture<SqliteStoreFixture>
{
    private static readonly DateTimeOffset Now = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Concurrent_appends_share_commits()
    {
        var store = await OpenAsync();
        var ids = await CreateSessionsAsync(store, 200);
        var commitsBefore = store.CommitCount;

        store.HoldWriter();
        var appends = ids.Select(id => store.AppendEventsAsync(Batch(id, "a"), Ct)).ToList();
        store.ReleaseWriter();
        var results = await Task.WhenAll(appends);

        results.ShouldAllBe(r => r.LastSeq == 1 && !r.Replayed);
        var commits = store.CommitCount - commitsBefore;
        commits.ShouldBeLessThan(200);
        commits.ShouldBe(1, "all 200 appends were queued before the writer was released");
    }

    [Fact]
    public async Task A_batch_holds_at_most_max_batch_size_writes()
    {
        var store = await OpenAsync(new SqliteStoreOptions { MaxBatchSize = 10 });
        var ids = await CreateSessionsAsync(store, 35);
        var commitsBefore = store.CommitCount;

        store.HoldWriter();
        var appends = ids.Select(id => store.AppendEventsAsync(Batch(id, "a"), Ct)).ToList();
        store.ReleaseWriter();
        await Task.WhenAll(appends);

        (store.CommitCount - commitsBefore).ShouldBe(4);
    }

    [Fact]
    public async Task A_failing_write_rolls_back_alone_and_the_rest_of_its_batch_commits()
    {
        var store = await OpenAsync();
        var ids = await CreateSessionsAsync(store, 3);
        var commitsBefore = store.CommitCount;

        store.HoldWriter();
        var ok1 = store.AppendEventsAsync(Batch(ids[0], "ok1"), Ct);
        var conflict = store.AppendEventsAsync(Batch(ids[1], "conflict", Map("k", 1)) with { ExpectedLastSeq = 7 }, Ct);
        var duplicate = store.CreateSessionAsync(NewSession(ids[2]), Ct);
        var missing = store.AppendEventsAsync(Batch("ses-missing", "missing"), Ct);
        var ok2 = store.AppendEventsAsync(Batch(ids[2], "ok2", Map("k", 2)), Ct);
        store.ReleaseWriter();

        (await ok1).LastSeq.ShouldBe(1);
        (await ok2).LastSeq.ShouldBe(1);
        (await Should.ThrowAsync<SeqConflictException>(conflict)).ActualLastSeq.ShouldBe(0);
        (await Should.ThrowAsync<SessiondException>(duplicate)).Code.ShouldBe(ErrorCodes.SessionExists);
        (await Should.ThrowAsync<SessiondException>(missing)).Code.ShouldBe(ErrorCodes.SessionNotFound);
        (store.CommitCount - commitsBefore).ShouldBe(1);
        (await store.GetSessionAsync(ids[1], Ct))!.State.ShouldBeEmpty();
        (await store.ReadEventsAsync(ids[1], 0, 10, Ct)).ShouldBeEmpty();
        (await store.GetSessionAsync(ids[2], Ct))!.State["k"].GetInt32().ShouldBe(2);
    }

    [Fact]
    public async Task Writes_in_one_batch_see_each_other()
    {
        var store = await OpenAsync();
        var id = $"ses-{Guid.NewGuid():N}";

        store.HoldWriter();
        var create = store.CreateSessionAsync(NewSession(id), Ct);
        var first = store.AppendEventsAsync(Batch(id, "a", Map("user:n", 1)), Ct);
        var second = store.AppendEventsAsync(Batch(id, "b") with { ExpectedLastSeq = 1 }, Ct);
        var update = store.UpdateSessionAsync(id, new SessionPatch("title", true, null, Now), Ct);
        store.ReleaseWriter();

        (await create).LastSeq.ShouldBe(0);
        (await first).Events.Single().Seq.ShouldBe(1);
        (await second).Events.Single().Seq.ShouldBe(2);
        var updated = await update;
        updated.LastSeq.ShouldBe(2);
        updated.State["user:n"].GetInt32().ShouldBe(1);
    }

    [Fact]
    public async Task A_failed_commit_fails_every_write_of_the_batch_and_keeps_nothing()
    {
        var store = await OpenAsync();
        var ids = await CreateSessionsAsync(store, 3);
        var boom = new InvalidOperationException("commit failed");
        var failures = 0;
        store.BeforeCommit = () =>
        {
            if (Interlocked.Increment(ref failures) == 1)
            {
                throw boom;
            }
        };

        store.HoldWriter();
        var appends = ids.Select(id => store.AppendEventsAsync(Batch(id, "lost", Map("app:lost", true)), Ct)).ToList();
        var conflict = store.AppendEventsAsync(Batch(ids[0], "conflict") with { ExpectedLastSeq = 9 }, Ct);
        store.ReleaseWriter();

        foreach (var append in appends)
        {
            (await Should.ThrowAsync<InvalidOperationException>(append)).ShouldBeSameAs(boom);
        }

        await Should.ThrowAsync<SeqConflictException>(conflict);
        foreach (var id in ids)
        {
            (await store.GetSessionAsync(id, Ct))!.LastSeq.ShouldBe(0);
            (await store.ReadEventsAsync(id, 0, 10, Ct)).ShouldBeEmpty();
        }

        (await store.GetAppStateAsync("app", Ct)).ShouldBeEmpty();

        // The writer carries on with the next batch.
        (await store.AppendEventsAsync(Batch(ids[0], "kept"), Ct)).LastSeq.ShouldBe(1);
    }

    [Fact]
    public async Task A_write_cancelled_before_the_writer_reaches_it_is_skipped()
    {
        var store = await OpenAsync();
        var ids = await CreateSessionsAsync(store, 1);
        using var cancel = new CancellationTokenSource();

        store.HoldWriter();
        var cancelled = store.AppendEventsAsync(Batch(ids[0], "never"), cancel.Token);
        await cancel.CancelAsync();
        store.ReleaseWriter();

        await Should.ThrowAsync<OperationCanceledException>(cancelled);
        (await store.ReadEventsAsync(ids[0], 0, 10, Ct)).ShouldBeEmpty();
        (await store.AppendEventsAsync(Batch(ids[0], "next"), Ct)).LastSeq.ShouldBe(1);
    }

    [Fact]
    public async Task Dispose_commits_every_queued_write_then_refuses_more()
    {
        var name = $"dispose-{Guid.NewGuid():N}";
        var store = await fixture.OpenAsync(name, new SqliteStoreOptions(), Ct);
        var ids = await CreateSessionsAsync(store, 1);

        store.HoldWriter();
        var appends = Enumerable.Range(0, 100).Select(i => store.AppendEventsAsync(Batch(ids[0], $"e{i}"), Ct)).ToList();
        var disposing = store.DisposeAsync().AsTask();
        Should.Throw<ObjectDisposedException>(() => store.AppendEventsAsync(Batch(ids[0], "late"), Ct));
        store.ReleaseWriter();
        await disposing;

        (await Task.WhenAll(appends)).Select(r => r.LastSeq).Order().ShouldBe(Enumerable.Range(1, 100).Select(i => (long)i));
        var reopened = await fixture.OpenAsync(name, new SqliteStoreOptions(), Ct);
        (await reopened.ReadEventsAsync(ids[0], 0, 1000, Ct)).Count.ShouldBe(100);
        await fixture.CloseStoreAsync(reopened);
    }

    [Fact]
    public async Task Acknowledged_writes_are_on_disk_without_a_graceful_shutdown()
    {
        // The first store is never disposed, as after kill -9: a second one opened on the same file sees every
        // acknowledged write, because the writer answers only after COMMIT has reached the WAL file.
        var name = $"abandoned-{Guid.NewGuid():N}";
        var abandoned = await fixture.OpenAsync(name, new SqliteStoreOptions(), Ct);
        var service = new SessionService(abandoned, new SessiondLimits(), TimeProvider.System);
        var session = await service.CreateAsync(Caller.System, new CreateSessionCommand { AppName = "app", UserId = "user" }, Ct);
        await service.AppendAsync(Caller.System, session.Id, new AppendEventsCommand { Events = [new SessionEvent { Author = "user" }] }, "key-1", Ct);

        var second = await fixture.OpenAsync(name, new SqliteStoreOptions(), Ct);

        (await second.GetSessionAsync(session.Id, Ct))!.LastSeq.ShouldBe(1);
        (await second.ReadEventsAsync(session.Id, 0, 10, Ct)).Count.ShouldBe(1);
    }

    private async Task<SqliteSessionStore> OpenAsync(SqliteStoreOptions? options = null) =>
        await fixture.OpenAsync($"batch-{Guid.NewGuid():N}", options ?? new SqliteStoreOptions(), Ct);

    private static async Task<List<string>> CreateSessionsAsync(SqliteSessionStore store, int count)
    {
        var ids = Enumerable.Range(0, count).Select(_ => $"ses-{Guid.NewGuid():N}").ToList();
        await Task.WhenAll(ids.Select(id => store.CreateSessionAsync(NewSession(id), Ct)));
        return ids;
    }

    private static NewSession NewSession(string id) =>
        new(id, "app", "user", null, SessionScope.User, null, Map(), [], StateChanges.None, EventUsage.Zero, Now);

    private static AppendBatch Batch(string sessionId, string text, Dictionary<string, System.Text.Json.JsonElement>? delta = null)
    {
        SessionEvent[] events =
        [
            new SessionEvent
            {
                Author = "user",
                Content = new EventContent { Role = "user", Parts = [new EventPart { Text = text }] },
                Actions = delta is null ? null : new EventActions { StateDelta = delta },
            },
        ];
        return new AppendBatch(sessionId, events, StateChanges.FromEvents(events), EventUsage.Zero, null, null, Now);
    }

    private static Dictionary<string, System.Text.Json.JsonElement> Map(string? key = null, object? value = null) =>
        key is null ? [] : new() { [key] = System.Text.Json.JsonSerializer.SerializeToElement(value) };
}
