using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;

namespace Sessiond.Storage.Sqlite.Writing;

/// <summary>Deletes a session with its events and idempotency keys; the user's and app's state stay.</summary>
internal sealed class DeleteSessionOperation(string sessionId, DateTimeOffset now, CancellationToken cancellationToken)
    : WriteOperation<bool>(cancellationToken)
{
    protected override bool Run(WriterStatements sql)
    {
        if (sql.SelectSessionForAppend(sessionId) is not { } target || !sql.DeleteSession(sessionId))
        {
            return false;
        }

        Change = new CommittedChange(
            sql.InsertFeed(FeedNotices.Of(target, sessionId, FeedNoticeKind.Deleted, target.LastSeq, now)),
            []);
        return true;
    }
}
