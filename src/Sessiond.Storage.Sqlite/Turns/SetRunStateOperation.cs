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

        var lease = LeaseRows.Select(sql.Connection, SessionId)!;
        if (change.FencingToken is { } fencing && (lease.Owner is null || lease.Token != fencing))
        {
            throw SessionErrors.LeaseLost(SessionId, fencing);
        }

        TurnLease? taken = null;
        if (change.Lease is { } claim)
        {
            taken = new TurnLease(SessionId, claim.Owner, lease.Token + 1, claim.ExpiresAt);
            LeaseRows.Write(sql.Connection, taken);
        }
        else if (change.ReleaseLease)
        {
            LeaseRows.Write(sql.Connection, lease with { Owner = null, ExpiresAt = null });
        }

        var updated = current with
        {
            Status = change.Status ?? current.Status,
            Agent = change.Agent ?? current.Agent,
            ModelOverride = change.ModelOverride is null ? current.ModelOverride
                : change.ModelOverride.Length == 0 ? null : change.ModelOverride,
            Permissions = change.Permissions ?? current.Permissions,
            UpdatedAt = change.Now,
            Lease = taken,
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
