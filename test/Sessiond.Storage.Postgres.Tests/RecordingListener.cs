using System.Threading.Channels;
using Sessiond.Core.Ports;

namespace Sessiond.Storage.Postgres.Tests;

/// <summary>Records what a store's relay hands its listener, for tests to await one by one.</summary>
public sealed class RecordingListener : ICommitListener
{
    private readonly Channel<CommittedChange> _changes = Channel.CreateUnbounded<CommittedChange>();
    private readonly TaskCompletionSource _missed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the listener is told that changes may have been missed.</summary>
    public Task Missed => _missed.Task;

    public void OnCommitted(CommittedChange change) => _changes.Writer.TryWrite(change);

    public void OnChangesMissed() => _missed.TrySetResult();

    /// <summary>The next change heard, or a timeout naming <paramref name="what"/>.</summary>
    public Task<CommittedChange> NextAsync(string what) => _changes.Reader.ReadAsync().AsTask().WaitForAsync(what);

    /// <summary>Changes already heard and not yet taken.</summary>
    public List<CommittedChange> Drain()
    {
        var drained = new List<CommittedChange>();
        while (_changes.Reader.TryRead(out var change))
        {
            drained.Add(change);
        }

        return drained;
    }
}
