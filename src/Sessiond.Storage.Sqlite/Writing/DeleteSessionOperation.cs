using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;

namespace Sessiond.Storage.Sqlite.Writing;

/// <summary>Deletes a session with its events and idempotency keys; the user's and app's state stay.</summary>
internal sealed class DeleteSessionOperation(string sessionId, DateTimeOffset now, CancellationToken cancellationToken)
    : WriteOperation<bool>(sessionId, cancellationToken)
{
    protected override bool Run(WriterStatements sql, AppendTargets targets)
    {
        if (targets.Find(sql, SessionId) is not { } target || !sql.DeleteSession(SessionId))
        {
            return false;
        }

        Change = new CommittedChange(
            SessionId, [], sql.InsertFeed(FeedNotices.Of(target, SessionId, FeedNoticeKind.Deleted, target.LastSeq, now)));
        return true;
    }
}
