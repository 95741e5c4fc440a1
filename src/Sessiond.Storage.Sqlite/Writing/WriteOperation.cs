using Sessiond.Core.Ports;

namespace Sessiond.Storage.Sqlite.Writing;

/// <summary>
/// One queued write. The writer runs it inside its own savepoint of a group-commit transaction and completes it only
/// after that transaction has committed, so an acknowledged write is durable.
/// </summary>
internal abstract class WriteOperation(CancellationToken cancellationToken)
{
    /// <summary>The caller's token; an operation cancelled before the writer reaches it is skipped.</summary>
    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>What the operation changed, for the commit listener; null when it changed nothing (an idempotent replay).</summary>
    public CommittedChange? Change { get; protected set; }

    /// <summary>Does the work on the writer's connection; throwing rolls back this operation only.</summary>
    public abstract void Execute(WriterStatements sql);

    /// <summary>Hands the result of <see cref="Execute"/> to the caller, after the commit.</summary>
    public abstract void Succeed();

    public abstract void Fail(Exception exception);

    public abstract void Cancel();
}

/// <summary>A queued write whose caller awaits a <typeparamref name="T"/>.</summary>
internal abstract class WriteOperation<T>(CancellationToken cancellationToken) : WriteOperation(cancellationToken)
{
    // Continuations run on the thread pool, never inline on the writer, so a slow caller cannot stall group commit.
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;

    public Task<T> Completion => _completion.Task;

    public sealed override void Execute(WriterStatements sql) => _result = Run(sql);

    public sealed override void Succeed() => _completion.TrySetResult(_result!);

    public sealed override void Fail(Exception exception) => _completion.TrySetException(exception);

    public sealed override void Cancel() => _completion.TrySetCanceled(CancellationToken);

    protected abstract T Run(WriterStatements sql);
}
