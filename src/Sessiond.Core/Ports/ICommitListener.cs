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

/// <summary>One committed write: its durable feed notice and, for appends and creates, the events it stored.</summary>
public sealed record CommittedChange(FeedNotice Notice, IReadOnlyList<StoredEvent> Events);
