namespace Sessiond.Server.Tests;

/// <summary>
/// A barrier on a background writer's progress: the writer reports the last seq each append acknowledged, and a test
/// waits for a seq (or for the writer to end) instead of sleeping.
/// </summary>
public sealed class WriterProgress
{
    private long _lastSeq;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The last seq the writer reported.</summary>
    public long LastSeq => Volatile.Read(ref _lastSeq);

    /// <summary>Called by the writer after each acknowledged append.</summary>
    public void Report(long lastSeq)
    {
        Volatile.Write(ref _lastSeq, lastSeq);
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>
    /// Waits until the writer has reported <paramref name="lastSeq"/> or more, or until <paramref name="writer"/> ends
    /// (its failure is thrown); fails naming <paramref name="what"/> after <paramref name="timeout"/>.
    /// </summary>
    public async Task WaitForAsync(long lastSeq, Task writer, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            // Take the signal before checking, so a report in between completes the signal we wait on.
            var changed = Volatile.Read(ref _changed).Task;
            if (LastSeq >= lastSeq)
            {
                return;
            }

            if (writer.IsCompleted)
            {
                await writer;
                return;
            }

            var left = deadline - DateTime.UtcNow;
            try
            {
                await Task.WhenAny(changed, writer).WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException(
                    $"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}: the writer reached seq {LastSeq}, not {lastSeq}.");
            }
        }
    }
}
