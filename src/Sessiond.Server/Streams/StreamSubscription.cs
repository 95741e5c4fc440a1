using System.Threading.Channels;

namespace Sessiond.Server.Streams;

/// <summary>
/// One subscriber's bounded queue of frames. When the queue is full the hub drops the frame and marks the subscriber
/// as lagging instead of waiting or growing; the subscriber then catches up from the store and rejoins the live tail.
/// Disposing it unsubscribes at once.
/// </summary>
public sealed class StreamSubscription : IDisposable
{
    private readonly Channel<StreamFrame> _frames;
    private readonly Action<StreamSubscription> _unsubscribe;
    private int _lagging;
    private int _disposed;

    internal StreamSubscription(int capacity, Action<StreamSubscription> unsubscribe)
    {
        _frames = Channel.CreateBounded<StreamFrame>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _unsubscribe = unsubscribe;
    }

    public ChannelReader<StreamFrame> Frames => _frames.Reader;

    /// <summary>True once since frames were dropped for this subscriber; reading it clears it.</summary>
    public bool TakeLagging() => Interlocked.Exchange(ref _lagging, 0) == 1;

    /// <summary>Queues a frame without waiting; a full queue drops it and marks the subscriber as lagging.</summary>
    internal void Offer(StreamFrame frame)
    {
        if (!_frames.Writer.TryWrite(frame) && frame.Kind is not FrameKind.Ping)
        {
            Volatile.Write(ref _lagging, 1);
            // The reader may have emptied the queue, found no flag yet and gone to sleep since the write failed; it would then
            // sleep until the next frame or ping. Writing again wakes it (or fails because the queue is still full, in which
            // case the reader has frames to read and will see the flag after them).
            _frames.Writer.TryWrite(frame);
        }
    }

    /// <summary>Makes the subscriber catch up from the store, as if frames had been dropped, and wakes it to do so.</summary>
    internal void Resync()
    {
        Volatile.Write(ref _lagging, 1);
        _frames.Writer.TryWrite(SseFrames.Ping);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _unsubscribe(this);
            _frames.Writer.TryComplete();
        }
    }
}
