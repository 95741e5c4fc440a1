using Sessiond.Core.Sessions;

namespace Sessiond.Core.Ports;

/// <summary>
/// What the agent runtime keeps beside the events: each session's run fields (status, agent, model override,
/// permissions) and its durable queue of follow-up inputs. Part of every store (see <see cref="ISessionStore"/>).
/// </summary>
public interface ITurnStore
{
    /// <summary>
    /// Changes the session's run fields in one commit and returns the session. With <see cref="RunStateChange.FromStatuses"/>
    /// the change happens only when the current status is one of them, otherwise <c>session_busy</c>, which makes
    /// "start a turn" a compare-and-set that holds across nodes. A status change is a <c>status</c> feed notice.
    /// Throws <c>session_not_found</c>.
    /// </summary>
    Task<Session> SetRunStateAsync(string sessionId, RunStateChange change, CancellationToken cancellationToken);

    /// <summary>
    /// Queues a follow-up at the end of the session's queue, or, when its key was already used on the session, returns
    /// the first one with <see cref="FollowupReceipt.Duplicate"/> set. Keys stay remembered after the follow-up ran.
    /// Throws <c>session_not_found</c>.
    /// </summary>
    Task<FollowupReceipt> EnqueueFollowupAsync(NewFollowup followup, CancellationToken cancellationToken);

    /// <summary>Marks the oldest pending follow-up of the session taken and returns it; null when none is pending.</summary>
    Task<QueuedFollowup?> TakeFollowupAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>How many follow-ups of the session are pending.</summary>
    Task<int> CountFollowupsAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Every session with a pending follow-up, so a starting node can run what a stopped one left queued.</summary>
    Task<IReadOnlyList<string>> ListSessionsWithFollowupsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Extends the session's turn lease to <paramref name="until"/>. Throws <c>lease_lost</c> when <paramref name="token"/>
    /// is not the current lease (it was taken over or released), and <c>session_not_found</c>.
    /// </summary>
    Task RenewLeaseAsync(string sessionId, long token, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="limit"/> leases no live node holds: those expired by <paramref name="now"/>, those held by
    /// <paramref name="owner"/> when given (a previous run of this node), and sessions left <c>running</c> without a lease.
    /// </summary>
    Task<IReadOnlyList<TurnLease>> ListStaleLeasesAsync(DateTimeOffset now, string? owner, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Takes over a stale lease to repair its session: a compare-and-set that succeeds only while <paramref name="staleToken"/>
    /// is still current and the lease is expired, released, or held by the claimant itself. Returns the new lease (token + 1),
    /// or null when another node got there first or the holder renewed it.
    /// </summary>
    Task<TurnLease?> TakeOverLeaseAsync(string sessionId, long staleToken, LeaseClaim claim, CancellationToken cancellationToken);
}
