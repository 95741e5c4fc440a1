using System.Diagnostics;

namespace Sessiond.Load.Streams;

/// <summary>
/// One of the fan-out scenario's subscribers: opens the session's stream, waits for its first status frame, then checks
/// that event ids arrive exactly once and in order (1..events) and records each one's append-to-delivery latency.
/// </summary>
internal sealed class FanOutSubscriber
{
    private readonly int _events;
    private readonly float[] _latencyMs;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FanOutSubscriber(int events)
    {
        _events = events;
        _latencyMs = new float[events + 1];
        Array.Fill(_latencyMs, float.NaN);
    }

    /// <summary>True once the first status frame arrived.</summary>
    public bool Connected { get; private set; }

    /// <summary>Events received once, in order.</summary>
    public int Received { get; private set; }

    /// <summary>Event frames at or below one already received (a repeat or out of order), or past the last event.</summary>
    public int Duplicates { get; private set; }

    /// <summary>Why the stream failed or ended early; null when it stayed open until stopped.</summary>
    public string? Error { get; private set; }

    /// <summary>Completes when the last event arrived or the stream failed.</summary>
    public Task Done => _done.Task;

    /// <summary>The latency of event <paramref name="seq"/> in milliseconds; NaN when it never arrived.</summary>
    public float LatencyMs(int seq) => _latencyMs[seq];

    public async Task RunAsync(
        HttpClient http, string path, SemaphoreSlim openGate, long[] sentAt, Action onConnected, CancellationToken cancellationToken)
    {
        HttpResponseMessage? response = null;
        try
        {
            SseReader reader;
            // The gate bounds the connections being opened at once (the server's listen backlog is finite), not those open.
            await openGate.WaitAsync(cancellationToken);
            try
            {
                response = await StreamsHttp.OpenStreamAsync(http, path, cancellationToken);
                reader = new SseReader(await response.Content.ReadAsStreamAsync(cancellationToken), 2048);
                if (!await reader.ReadUntilAsync(SseFrameKind.Status, cancellationToken))
                {
                    throw new InvalidOperationException("The stream ended before its first status frame.");
                }
            }
            finally
            {
                openGate.Release();
            }

            Connected = true;
            onConnected();
            long next = 1;
            while (await reader.ReadAsync(cancellationToken))
            {
                if (reader.Kind != SseFrameKind.Event)
                {
                    continue;
                }

                var id = reader.Id;
                if (id < next || id > _events)
                {
                    Duplicates++;
                    continue;
                }

                _latencyMs[id] = (float)Stopwatch.GetElapsedTime(Volatile.Read(ref sentAt[id]), reader.ReceivedAt).TotalMilliseconds;
                Received++;
                next = id + 1;
                if (id == _events)
                {
                    // Keep reading until stopped, so a repeat after the last event would still be counted.
                    _done.TrySetResult();
                }
            }

            Error = "The server ended the stream.";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped by the scenario.
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException)
        {
            Error = ex.Message;
        }
        finally
        {
            response?.Dispose();
            _done.TrySetResult();
        }
    }
}
