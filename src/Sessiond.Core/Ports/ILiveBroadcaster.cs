using Sessiond.Core.Events;

namespace Sessiond.Core.Ports;

/// <summary>Sends live-only events (partial deltas) to a session's current watchers. Nothing sent here is stored.</summary>
public interface ILiveBroadcaster
{
    /// <summary>Broadcasts a partial event of the session; must not block.</summary>
    void BroadcastPartial(string sessionId, SessionEvent partial);
}
