namespace Sessiond.Core.Errors;

/// <summary>An append named an <c>expectedLastSeq</c> that is not the session's last sequence number.</summary>
public sealed class SeqConflictException(long expectedLastSeq, long actualLastSeq)
    : SessiondException(ErrorKind.Conflict, ErrorCodes.SeqConflict,
        $"Expected last seq {expectedLastSeq} but the session is at {actualLastSeq}.")
{
    public long ExpectedLastSeq { get; } = expectedLastSeq;

    public long ActualLastSeq { get; } = actualLastSeq;

    public override IReadOnlyDictionary<string, object?> Extensions => new Dictionary<string, object?>
    {
        ["expectedLastSeq"] = ExpectedLastSeq,
        ["actualLastSeq"] = ActualLastSeq,
    };
}
