namespace Sessiond.Server.Streams;

/// <summary>The <c>Sessiond:Streams</c> section: live SSE streams.</summary>
public sealed record StreamOptions
{
    /// <summary>Seconds between <c>: ping</c> comments on an open stream.</summary>
    public int PingIntervalSeconds { get; init; } = 15;

    /// <summary>
    /// Frames a subscriber may have waiting before it is switched to catch-up reads from the store. Frames are shared
    /// between subscribers, so this bounds each subscriber's memory to a count of references.
    /// </summary>
    public int SubscriberBufferFrames { get; init; } = 512;

    /// <summary>Describes the first unsound setting, or null.</summary>
    public string? Validate() =>
        PingIntervalSeconds is < 1 or > 3600 ? "Sessiond:Streams:PingIntervalSeconds must be 1-3600 (default 15)."
        : SubscriberBufferFrames is < 16 or > 1_000_000 ? "Sessiond:Streams:SubscriberBufferFrames must be 16-1000000 (default 512)."
        : null;
}
