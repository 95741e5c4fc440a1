using System.Text.Json;
using Sessiond.Core.Errors;
using Sessiond.Core.Json;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Storage.Sqlite.Writing;

namespace Sessiond.Storage.Sqlite.Turns;

/// <summary>Changes a session's run fields; with allowed starting statuses, a compare-and-set on the status.</summary>
internal sealed class SetRunStateOperation(string sessionId, RunStateChange change, CancellationToken cancellationToken)
    : WriteOperation<Session>(sessionId, cancellationToken)
{
    protected override Session Run(WriterStatements sql, AppendTargets targets)
    {
        var current = sql.SelectSession(SessionId) ?? throw SessionErrors.SessionNotFound(SessionId);
        if (change.FromStatuses is { } from && !from.Contains(current.Status))
        {
            throw SessionErrors.SessionBusy(SessionId, current.Status);
        }

        var updated = current with
        {
            Status = change.Status ?? current.Status,
            Agent = change.Agent ?? current.Agent,
            ModelOverride = change.ModelOverride is null ? current.ModelOverride
                : change.ModelOverride.Length == 0 ? null : change.ModelOverride,
            Permissions = change.Permissions ?? current.Permissions,
            UpdatedAt = change.Now,
        };
        using (var command = sql.Connection.CreateCommand())
        {
            command.CommandText = """
                UPDATE sessions SET status = $status, agent = $agent, model_override = $model, permissions = $permissions,
                    updated_at = $now
                WHERE id = $id
                """;
            command.Parameters.AddWithValue("$id", SessionId);
            command.Parameters.AddWithValue("$status", updated.Status);
            command.Parameters.AddWithValue("$agent", (object?)updated.Agent ?? DBNull.Value);
            command.Parameters.AddWithValue("$model", (object?)updated.ModelOverride ?? DBNull.Value);
            command.Parameters.AddWithValue("$permissions",
                JsonSerializer.SerializeToUtf8Bytes(updated.Permissions, SessiondJson.Default.SessionPermissions));
            command.Parameters.AddWithValue("$now", change.Now.ToUnixTimeMilliseconds());
            command.ExecuteNonQuery();
        }

        var kind = updated.Status == current.Status ? FeedNoticeKind.Updated : FeedNoticeKind.Status;
        Change = new CommittedChange(SessionId, [], sql.InsertFeed(FeedNotices.Of(updated, kind)));
        return updated;
    }
}
