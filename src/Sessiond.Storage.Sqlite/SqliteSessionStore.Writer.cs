using System.Runtime.ExceptionServices;
using Microsoft.Data.Sqlite;
using Sessiond.Core.Errors;
using Sessiond.Storage.Sqlite.Writing;

namespace Sessiond.Storage.Sqlite;

/// <summary>The single writer and its group commit.</summary>
public sealed partial class SqliteSessionStore
{
    /// <summary>The most sessions whose append targets the writer keeps between commits.</summary>
    private const int KeptAppendTargets = 4096;

    private readonly AppendTargets _targets = new(KeptAppendTargets);
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

    /// <summary>
    /// The writer thread's loop. A dedicated thread rather than a thread-pool task: it blocks only while the queue is
    /// empty, and a batch then costs one wake-up instead of an await continuation queued behind the requests it serves.
    /// </summary>
    private void RunWriter(TaskCompletionSource stopped)
    {
        try
        {
            WriteBatches();
        }
        finally
        {
            stopped.SetResult();
        }
    }

    private void WriteBatches()
    {
        var batch = new List<WriteOperation>(_options.MaxBatchSize);
        while (_queue.WaitForWrites())
        {
            Volatile.Read(ref _writerHold)?.Task.Wait();

            // Everything queued while the previous batch committed goes into this one: that is the group commit.
            _queue.TakeInto(batch, _options.MaxBatchSize);
            try
            {
                ExecuteBatch(batch);
            }
            catch (Exception exception)
            {
                // ExecuteBatch answers every operation itself; this only guards the writer against a bug, because a
                // dead writer would leave every later caller waiting forever.
                _targets.Reset();
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
    /// Runs the batch in one transaction and completes the callers only after COMMIT. An operation that can fail after it
    /// has written runs in its own savepoint, so it rolls back alone; appends refuse before they write and need none.
    /// Appends leave their session rows and feed notices to <see cref="AppendTargets.Flush"/>, which runs before any other
    /// kind of write (that may read those rows) and before COMMIT. When the transaction itself fails, every operation
    /// fails with it.
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
                }
                else if (operation.NeedsSavepoint)
                {
                    failures[i] = ExecuteInSavepoint(sql, operation);
                }
                else
                {
                    try
                    {
                        operation.Execute(sql, _targets);
                    }
                    catch (SessiondException refused)
                    {
                        failures[i] = refused;
                    }
                }
            }

            _targets.Flush(sql);
            BeforeCommit?.Invoke();
            sql.Commit();
        }
        catch (Exception exception)
        {
            sql.TryRollback();
            _targets.Reset();
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

        _targets.Committed();
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

    /// <summary>Runs one operation in its own savepoint; returns its failure, after rolling back what it wrote.</summary>
    private Exception? ExecuteInSavepoint(WriterStatements sql, WriteOperation operation)
    {
        // The operation may read the rows of sessions that appends in this batch changed.
        _targets.Flush(sql);
        sql.Savepoint();
        try
        {
            operation.Execute(sql, _targets);
            sql.ReleaseSavepoint();
            return null;
        }
        catch (Exception exception)
        {
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

            return exception;
        }
        finally
        {
            // Whatever it did to the session, what the writer kept of it may be stale now.
            _targets.Forget(operation.SessionId);
        }
    }
}
