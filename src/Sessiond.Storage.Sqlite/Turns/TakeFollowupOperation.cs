using Sessiond.Core.Ports;
using Sessiond.Storage.Sqlite.Writing;

namespace Sessiond.Storage.Sqlite.Turns;

/// <summary>Marks the oldest pending follow-up of a session taken, in the writer, so no two takers get the same one.</summary>
internal sealed class TakeFollowupOperation(string sessionId, CancellationToken cancellationToken)
    : WriteOperation<QueuedFollowup?>(sessionId, cancellationToken)
{
    protected override QueuedFollowup? Run(WriterStatements sql, AppendTargets targets)
    {
        using var command = sql.Connection.CreateCommand();
        command.CommandText = """
            UPDATE followups SET taken = 1
            WHERE id = (SELECT id FROM followups WHERE session_id = $session_id AND taken = 0 ORDER BY id LIMIT 1)
            RETURNING id, session_id, key, input, created_at
            """;
        command.Parameters.AddWithValue("$session_id", SessionId);
        using var row = command.ExecuteReader();
        return row.Read() ? FollowupRows.Read(row) : null;
    }
}
