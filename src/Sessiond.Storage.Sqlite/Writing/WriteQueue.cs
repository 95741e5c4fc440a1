namespace Sessiond.Storage.Sqlite.Writing;

/// <summary>
/// The writes waiting for the writer thread. Callers add from any thread; the writer blocks on it while it is empty and
/// takes everything queued meanwhile as its next batch. A plain monitor, because the writer is one dedicated thread: it
/// sleeps only when there is nothing to commit, so each batch costs one wake-up rather than a thread-pool hop per write.
/// </summary>
internal sealed class WriteQueue
{
    private readonly object _gate = new();
    private readonly List<WriteOperation> _pending = [];
    private bool _completed;

    /// <summary>Queues a write; false once <see cref="Complete"/> was called.</summary>
    public bool TryAdd(WriteOperation operation)
    {
        lock (_gate)
        {
            if (_completed)
            {
                return false;
            }

            _pending.Add(operation);
            if (_pending.Count == 1)
            {
                // The writer waits only on an empty queue, so only the first write can find it asleep.
                Monitor.Pulse(_gate);
            }

            return true;
        }
    }

    /// <summary>Takes no more writes; the writer still drains what is queued.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Blocks the writer until a write is queued; false when the queue is completed and drained.</summary>
    public bool WaitForWrites()
    {
        lock (_gate)
        {
            while (_pending.Count == 0)
            {
                if (_completed)
                {
                    return false;
                }

                Monitor.Wait(_gate);
            }

            return true;
        }
    }

    /// <summary>Moves up to <paramref name="max"/> queued writes, oldest first, into <paramref name="batch"/>.</summary>
    public void TakeInto(List<WriteOperation> batch, int max)
    {
        lock (_gate)
        {
            var count = Math.Min(max, _pending.Count);
            for (var i = 0; i < count; i++)
            {
                batch.Add(_pending[i]);
            }

            _pending.RemoveRange(0, count);
        }
    }
}
