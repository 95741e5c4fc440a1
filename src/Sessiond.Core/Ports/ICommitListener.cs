using Sessiond.Core.Events;
using Sessiond.Core.Sessions;

namespace Sessiond.Core.Ports;

/// <summary>
/// Told of every committed change, in commit order, right after the commit and before the writer answers the caller.
/// Implementations must not block: the store's writer calls them.
/// </summary>
public interface ICommitListener
{
    void OnCommitted(CommittedChange change);

    /// <summary>
    /// Told that commits may have been missed: a provider that hears other nodes' commits over a connection lost that
    /// connection for a while and has it back. Listeners re-read from the store whatever they serve. Must not block.
    /// </summary>
    void OnChangesMissed()
    {
    }
}

/// <summary>
/// One committed write of a session: for appends and creates, the events it stored; and its durable feed notice. A store
/// may record one notice for several writes of the same session in one commit (the latest state wins); the earlier writes
/// then carry a null <see cref="Notice"/> and the last one the shared notice.
/// </summary>
public sealed record CommittedChange(string SessionId, IReadOnlyList<StoredEvent> Events, FeedNotice? Notice);
