namespace Sessiond.Core.Sessions;

/// <summary>
/// A durable notice in a user's feed of session changes. <see cref="Id"/> orders all notices of the store and is the
/// cursor a feed resumes from.
/// </summary>
public sealed record FeedNotice
{
    public long Id { get; init; }

    /// <summary>One of <see cref="FeedNoticeKind"/>.</summary>
    public required string Kind { get; init; }

    public required string SessionId { get; init; }

    public required string AppName { get; init; }

    public required string UserId { get; init; }

    public string? TeamId { get; init; }

    public long LastSeq { get; init; }

    public string Status { get; init; } = SessionStatus.Idle;

    public string? Title { get; init; }

    public DateTimeOffset At { get; init; }
}

/// <summary>What a <see cref="FeedNotice"/> reports.</summary>
public static class FeedNoticeKind
{
    public const string Created = "created";
    public const string Updated = "updated";
    public const string Deleted = "deleted";
    public const string Status = "status";
}
