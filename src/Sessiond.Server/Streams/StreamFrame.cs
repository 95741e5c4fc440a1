namespace Sessiond.Server.Streams;

/// <summary>What a <see cref="StreamFrame"/> carries.</summary>
public enum FrameKind
{
    /// <summary>A durable event; <see cref="StreamFrame.Position"/> is its seq.</summary>
    Event,
    /// <summary>A partial (live-only) event.</summary>
    Delta,
    /// <summary>A durable feed notice; <see cref="StreamFrame.Position"/> is its feed id.</summary>
    Notice,
    /// <summary>A change of the session's status.</summary>
    Status,
    /// <summary>A keep-alive comment.</summary>
    Ping,
    /// <summary>The session was deleted; the stream ends after this frame.</summary>
    End,
}

/// <summary>
/// One SSE frame, already encoded. The hub encodes each frame once and hands the same bytes to every subscriber.
/// </summary>
public sealed record StreamFrame(FrameKind Kind, long Position, byte[] Bytes);
