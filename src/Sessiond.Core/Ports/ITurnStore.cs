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
}
