namespace Sessiond.Runtime.Turns;

/// <summary>A session's run status with what it waits for and what is queued.</summary>
public sealed record SessionRunStatus(
    string Status,
    string? InvocationId,
    IReadOnlyList<PendingApproval> PendingApprovals,
    IReadOnlyList<PendingElicitation> PendingElicitations,
    int SteerQueue,
    int FollowupQueue);

/// <summary>What became of a follow-up request: <c>queued</c>, <c>started</c> or <c>duplicate</c>.</summary>
public static class FollowupStatus
{
    public const string Queued = "queued";
    public const string Started = "started";
    public const string Duplicate = "duplicate";
}
