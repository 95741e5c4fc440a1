using System.Runtime.ExceptionServices;
using Microsoft.Data.Sqlite;
using Sessiond.Storage.Sqlite.Writing;

namespace Sessiond.Storage.Sqlite;

/// <summary>The single writer and its group commit.</summary>
public sealed partial class SqliteSessionStore
{
    private long _commitCount;
    private long _committedOperationCount;
    private TaskCompletionSource? _writerHold;

    /// <summary>Transactions the writer has committed; with group commit, fewer than the writes it acknowledged.</summary>
    internal long CommitCount => Interlocked.Read(ref _commitCount);

    /// <summary>Writes that have run inside a committed transaction (failed ones rolled back to their savepoint included).</summary>
    internal long CommittedOperationCount => Interlocked.Read(ref _committedOperationCount);

    /// <summary>Test hook: runs just before COMMIT; throwing from it fails the whole batch like a failed COMMIT.</summary>
    internal Action? BeforeCommit { get; set; }

    /// <summary>Test barrier: the writer takes no batch until <see cref="ReleaseWriter"/>, so queued writes pile up.</summary>
    internal void HoldWriter() =>
        Volatile.Write(ref _writerHold, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    internal void ReleaseWriter() => Interlocked.Exchange(ref _writerHold, null)?.TrySetResult();

    private async Task RunWriterAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<WriteOperation>(_options.MaxBatchSize);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            if (Volatile.Read(ref _writerHold) is { } hold)
            {
                await hold.Task.ConfigureAwait(false);
            }

            // Everything queued while the previous batch committed goes into this one: that is the group commit.
            while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var operation))
            {
                batch.Add(operation);
            }

            try
            {
                ExecuteBatch(batch);
            }
            catch (Exception exception)
            {
                // ExecuteBatch answers every operation itself; this only guards the writer against a bug, because a
                // dead writer would leave every later caller waiting forever.
                foreach (var operation in batch)
                {
                    operation.Fail(exception);
                }
            }
            finally
            {
                batch.Clear();
            }
        }
    }

    /// <summary>
    /// Runs the batch in one transaction, each operation inside its own savepoint so a failing one rolls back alone,
    /// and completes the callers only after COMMIT. When the transaction itself fails, every operation fails with it.
    /// </summary>
    private void ExecuteBatch(List<WriteOperation> batch)
    {
        var sql = _statements!;
        var failures = new Exception?[batch.Count];
        try
        {
            sql.Begin();
            for (var i = 0; i < batch.Count; i++)
            {
                var operation = batch[i];
                if (operation.CancellationToken.IsCancellationRequested)
                {
                    failures[i] = new OperationCanceledException(operation.CancellationToken);
                    continue;
                }

                sql.Savepoint();
                try
                {
                    operation.Execute(sql);
                    sql.ReleaseSavepoint();
                }
                catch (Exception exception)
                {
                    failures[i] = exception;
                    try
                    {
                        sql.RollbackToSavepoint();
                    }
                    catch (SqliteException)
                    {
                        // SQLite rolled back the whole transaction on its own (I/O error, disk full), so the batch is
                        // lost: fail every operation with the error that caused it.
                        ExceptionDispatchInfo.Throw(exception);
                    }
                }
            }

            BeforeCommit?.Invoke();
            sql.Commit();
        }
        catch (Exception exception)
        {
            sql.TryRollback();
            for (var i = 0; i < batch.Count; i++)
            {
                if (failures[i] is OperationCanceledException)
                {
                    batch[i].Cancel();
                }
                else
                {
                    batch[i].Fail(failures[i] ?? exception);
                }
            }

            return;
        }

        Interlocked.Increment(ref _commitCount);
        Interlocked.Add(ref _committedOperationCount, batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            switch (failures[i])
            {
                case null:
                    // Listeners hear of changes in commit order, before the caller is answered.
                    if (batch[i].Change is { } change)
                    {
                        _listener?.OnCommitted(change);
                    }

                    batch[i].Succeed();
                    break;
                case OperationCanceledException:
                    batch[i].Cancel();
                    break;
                case var failure:
                    batch[i].Fail(failure);
                    break;
            }
        }
    }
}
