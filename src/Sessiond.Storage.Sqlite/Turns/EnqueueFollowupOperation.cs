using Microsoft.Data.Sqlite;
using Sessiond.Core.Errors;
using Sessiond.Core.Ports;
using Sessiond.Storage.Sqlite.Writing;

namespace Sessiond.Storage.Sqlite.Turns;

/// <summary>Queues a follow-up, or returns the one queued earlier under the same key.</summary>
internal sealed class EnqueueFollowupOperation(NewFollowup followup, CancellationToken cancellationToken)
    : WriteOperation<FollowupReceipt>(followup.SessionId, cancellationToken)
{
    protected override FollowupReceipt Run(WriterStatements sql, AppendTargets targets)
    {
        if (FollowupRows.SelectByKey(sql.Connection, followup.SessionId, followup.Key) is { } existing)
        {
            return new FollowupReceipt(existing, Duplicate: true);
        }

        if (targets.Find(sql, followup.SessionId) is null)
        {
            throw SessionErrors.SessionNotFound(followup.SessionId);
        }

        using var command = sql.Connection.CreateCommand();
        command.CommandText = """
            INSERT INTO followups (session_id, key, input, created_at) VALUES ($session_id, $key, $input, $now)
            RETURNING id
            """;
        command.Parameters.AddWithValue("$session_id", followup.SessionId);
        command.Parameters.AddWithValue("$key", followup.Key);
        command.Parameters.Add("$input", SqliteType.Blob).Value = System.Text.Encoding.UTF8.GetBytes(followup.InputJson);
        command.Parameters.AddWithValue("$now", followup.Now.ToUnixTimeMilliseconds());
        var id = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        return new FollowupReceipt(
            new QueuedFollowup(id, followup.SessionId, followup.Key, followup.InputJson,
                DateTimeOffset.FromUnixTimeMilliseconds(followup.Now.ToUnixTimeMilliseconds())),
            Duplicate: false);
    }
}
