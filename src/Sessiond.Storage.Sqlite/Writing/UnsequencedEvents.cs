using Sessiond.Core.Events;
using Sessiond.Core.Json;

namespace Sessiond.Storage.Sqlite.Writing;

/// <summary>
/// Serializes events without their seq on the caller's thread, before they are queued: the single writer is the
/// bottleneck of every write, so it only splices each seq in (<see cref="SessiondJson.WithSeq"/>).
/// </summary>
internal static class UnsequencedEvents
{
    public static byte[][] Of(IReadOnlyList<SessionEvent> events)
    {
        var json = new byte[events.Count][];
        for (var i = 0; i < json.Length; i++)
        {
            // The store assigns seqs; one set by a caller is dropped.
            var evt = events[i];
            json[i] = SessiondJson.SerializeEvent(evt.Seq == 0 ? evt : evt with { Seq = 0 });
        }

        return json;
    }
}
