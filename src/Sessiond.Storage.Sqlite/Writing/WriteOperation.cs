using Sessiond.Core.Ports;

namespace Sessiond.Storage.Sqlite.Writing;

/// <summary>
/// One queued write. The writer runs it inside a group-commit transaction and completes it only after that transaction
/// has committed, so an acknowledged write is durable.
/// </summary>
internal abstract class WriteOperation(string sessionId, CancellationToken cancellationToken)
{
    /// <summary>The session the write is about.</summary>
    public string SessionId { get; } = sessionId;

    /// <summary>The caller's token; an operation cancelled before the writer reaches it is skipped.</summary>
    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>What the operation changed, for the commit listener; null when it changed nothing (an idempotent replay).</summary>
    public CommittedChange? Change { get; protected set; }

    /// <summary>
    /// True when the writer must wrap the operation in a savepoint, so that a failure rolls back its own changes alone.
    /// False only for an operation that refuses (with a <see cref="Core.Errors.SessiondException"/>) before its first
    /// write: whatever fails after that is SQLite itself, and the writer fails the whole batch.
    /// </summary>
    public virtual bool NeedsSavepoint => true;

    /// <summary>Does the work on the writer's connection.</summary>
    public abstract void Execute(WriterStatements sql, AppendTargets targets);

    /// <summary>Hands the result of <see cref="Execute"/> to the caller, after the commit.</summary>
    public abstract void Succeed();

    public abstract void Fail(Exception exception);

    public abstract void Cancel();
}

/// <summary>A queued write whose caller awaits a <typeparamref name="T"/>.</summary>
internal abstract class WriteOperation<T>(string sessionId, CancellationToken cancellationToken)
    : WriteOperation(sessionId, cancellationToken)
{
    // Continuations run on the thread pool, never inline on the writer, so a slow caller cannot stall group commit.
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;

    public Task<T> Completion => _completion.Task;

    public sealed override void Execute(WriterStatements sql, AppendTargets targets) => _result = Run(sql, targets);

    public sealed override void Succeed() => _completion.TrySetResult(_result!);

    public sealed override void Fail(Exception exception) => _completion.TrySetException(exception);

    public sealed override void Cancel() => _completion.TrySetCanceled(CancellationToken);

    protected abstract T Run(WriterStatements sql, AppendTargets targets);
}
