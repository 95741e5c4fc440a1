namespace Sessiond.Runtime.Tests;

/// <summary>Bounded waits whose timeout says what was being waited for.</summary>
public static class TaskTimeouts
{
    /// <summary>Waits for <paramref name="task"/>; after <paramref name="timeout"/>, fails naming <paramref name="what"/>.</summary>
    public static async Task WaitForAsync(this Task task, TimeSpan timeout, string what)
    {
        try
        {
            await task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}.");
        }
    }

    /// <summary>Waits for <paramref name="task"/>'s result; after <paramref name="timeout"/>, fails naming <paramref name="what"/>.</summary>
    public static async Task<T> WaitForAsync<T>(this Task<T> task, TimeSpan timeout, string what)
    {
        try
        {
            return await task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}.");
        }
    }
}
