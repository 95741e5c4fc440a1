namespace Sessiond.Storage.Sqlite.Writing;

/// <summary>Deletes a session with its events and idempotency keys; the user's and app's state stay.</summary>
internal sealed class DeleteSessionOperation(string sessionId, CancellationToken cancellationToken)
    : WriteOperation<bool>(cancellationToken)
{
    protected override bool Run(WriterStatements sql) => sql.DeleteSession(sessionId);
}
