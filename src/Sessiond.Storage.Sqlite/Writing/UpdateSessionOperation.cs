using Sessiond.Core.Errors;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Core.State;

namespace Sessiond.Storage.Sqlite.Writing;

/// <summary>Changes title, starred and metadata (merged key by key; a null value deletes the key).</summary>
internal sealed class UpdateSessionOperation(string sessionId, SessionPatch patch, CancellationToken cancellationToken)
    : WriteOperation<Session>(sessionId, cancellationToken)
{
    protected override Session Run(WriterStatements sql, AppendTargets targets)
    {
        var current = sql.SelectSession(SessionId) ?? throw SessionErrors.SessionNotFound(SessionId);
        var title = patch.Title is null ? current.Title : patch.Title.Length == 0 ? null : patch.Title;
        var starred = patch.Starred ?? current.Starred;
        var metadata = patch.Metadata is null ? current.Metadata : StateChanges.Apply(current.Metadata, patch.Metadata);
        var now = patch.Now.ToUnixTimeMilliseconds();
        sql.UpdateFields(SessionId, title, starred, metadata, now);
        var updated = current with
        {
            Title = title,
            Starred = starred,
            Metadata = metadata,
            UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(now),
        };
        Change = new CommittedChange(SessionId, [], sql.InsertFeed(FeedNotices.Of(updated, FeedNoticeKind.Updated)));
        return updated;
    }
}
