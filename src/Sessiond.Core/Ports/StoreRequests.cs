using System.Text.Json;
using Sessiond.Core.Events;
using Sessiond.Core.Sessions;
using Sessiond.Core.State;

namespace Sessiond.Core.Ports;

/// <summary>A validated session to create, with the state changes of its initial state and events already folded.</summary>
public sealed record NewSession(
    string Id,
    string AppName,
    string UserId,
    string? TeamId,
    string Scope,
    string? Title,
    IReadOnlyDictionary<string, JsonElement> Metadata,
    IReadOnlyList<SessionEvent> Events,
    StateChanges State,
    EventUsage Usage,
    DateTimeOffset Now);

/// <summary>Changes to a session's own fields. Null leaves a field as it is; a null metadata value deletes that key.</summary>
public sealed record SessionPatch(string? Title, bool? Starred, IReadOnlyDictionary<string, JsonElement>? Metadata, DateTimeOffset Now);

/// <summary>
/// A validated batch of events to commit together, with their folded state changes and summed usage.
/// The store assigns each event's <c>seq</c> and keeps everything else as given.
/// </summary>
public sealed record AppendBatch(
    string SessionId,
    IReadOnlyList<SessionEvent> Events,
    StateChanges State,
    EventUsage Usage,
    long? ExpectedLastSeq,
    IdempotencyToken? Idempotency,
    DateTimeOffset Now)
{
    /// <summary>When set, the batch is a turn's write: refused with <c>lease_lost</c> unless this is the session's current lease.</summary>
    public long? FencingToken { get; init; }
}

/// <summary>An <c>Idempotency-Key</c> and the hash of the request it came with, to tell a retry from a reuse.</summary>
public sealed record IdempotencyToken(string Key, string RequestHash);

/// <summary>The committed events (with <c>seq</c>) and the session's last <c>seq</c>; <see cref="Replayed"/> when an idempotency key matched.</summary>
public sealed record AppendResult(IReadOnlyList<StoredEvent> Events, long LastSeq, bool Replayed);

/// <summary>
/// Changes to a session's run fields; null leaves a field as it is and an empty <see cref="ModelOverride"/> clears it.
/// <see cref="FromStatuses"/>, when given, are the statuses the change may start from.
/// </summary>
public sealed record RunStateChange(DateTimeOffset Now)
{
    public string? Status { get; init; }

    public IReadOnlyCollection<string>? FromStatuses { get; init; }

    public string? Agent { get; init; }

    public string? ModelOverride { get; init; }

    public SessionPermissions? Permissions { get; init; }

    /// <summary>Takes a new turn lease in the same commit: the session's fencing token goes up by one.</summary>
    public LeaseClaim? Lease { get; init; }

    /// <summary>When set, the change is refused with <c>lease_lost</c> unless this is the session's current lease.</summary>
    public long? FencingToken { get; init; }

    /// <summary>Ends the current lease (the token stays, so a later lease gets a higher one).</summary>
    public bool ReleaseLease { get; init; }
}

/// <summary>A node's claim on a session's turn lease, valid until <see cref="ExpiresAt"/> unless renewed.</summary>
public sealed record LeaseClaim(string Owner, DateTimeOffset Now, DateTimeOffset ExpiresAt);

/// <summary>
/// A turn lease: which node runs the session's turn, its fencing token (increasing per session, one per lease taken),
/// and when it lapses unless renewed.
/// </summary>
public sealed record TurnLease(string SessionId, string? Owner, long Token, DateTimeOffset? ExpiresAt);

/// <summary>A follow-up input to queue, with the idempotency key that makes a retried request harmless.</summary>
public sealed record NewFollowup(string SessionId, string Key, string InputJson, DateTimeOffset Now);

/// <summary>A queued follow-up. <see cref="Id"/> orders the queue of a session.</summary>
public sealed record QueuedFollowup(long Id, string SessionId, string Key, string InputJson, DateTimeOffset CreatedAt);

/// <summary>The follow-up as stored; <see cref="Duplicate"/> when its key had been used before.</summary>
public sealed record FollowupReceipt(QueuedFollowup Followup, bool Duplicate);
