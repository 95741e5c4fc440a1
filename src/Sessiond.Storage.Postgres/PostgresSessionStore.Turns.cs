using System.Globalization;
using System.Text.Json;
using Npgsql;
using Sessiond.Core.Errors;
using Sessiond.Core.Json;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Storage.Postgres.Writing;

namespace Sessiond.Storage.Postgres;

/// <summary>The runtime's part of the store: run fields (a compare-and-set on the locked row) and the follow-up queue.</summary>
public sealed partial class PostgresSessionStore
{
    private const string FollowupColumns = "id, session_id, key, input, created_at";

    /// <inheritdoc />
    public Task<Session> SetRunStateAsync(string sessionId, RunStateChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        return WriteAsync(sessionId, async (connection, ct) =>
        {
            // The row lock makes the status check and the change one step on every node: exactly one racing start wins.
            var current = await SelectSessionForUpdateAsync(connection, sessionId, ct).ConfigureAwait(false)
                ?? throw SessionErrors.SessionNotFound(sessionId);
            if (change.FromStatuses is { } from && !from.Contains(current.Status))
            {
                throw SessionErrors.SessionBusy(sessionId, current.Status);
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

            await using var write = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    Sql.Command(
                        "UPDATE sessions SET status = $2, agent = $3, model_override = $4, permissions = $5, updated_at = $6 WHERE id = $1",
                        sessionId, updated.Status, updated.Agent, updated.ModelOverride,
                        JsonSerializer.SerializeToUtf8Bytes(updated.Permissions, SessiondJson.Default.SessionPermissions),
                        change.Now.ToUnixTimeMilliseconds()),
                },
            };
            var kind = updated.Status == current.Status ? FeedNoticeKind.Updated : FeedNoticeKind.Status;
            var notice = FeedNotices.Of(updated, kind);
            var (feed, token) = FeedCommand(notice, 0);
            write.BatchCommands.Add(feed);
            var feedId = await ExecuteFeedAsync(write, ct).ConfigureAwait(false);
            return new WriteOutcome<Session>(updated, new CommittedChange(notice.SessionId, [], notice with { Id = feedId }), token);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<FollowupReceipt> EnqueueFollowupAsync(NewFollowup followup, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(followup);
        return WriteAsync(followup.SessionId, async (connection, ct) =>
        {
            if (await SelectFollowupByKeyAsync(connection, followup.SessionId, followup.Key, ct).ConfigureAwait(false) is { } existing)
            {
                return new WriteOutcome<FollowupReceipt>(new FollowupReceipt(existing, Duplicate: true), null, 0);
            }

            // A share lock on the session row: a delete waits for this commit (and then removes the follow-up with
            // the session), or went first and the session is gone.
            await using (var exists = Sql.Command(connection, "SELECT 1 FROM sessions WHERE id = $1 FOR KEY SHARE", followup.SessionId))
            {
                if (await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is null)
                {
                    throw SessionErrors.SessionNotFound(followup.SessionId);
                }
            }

            var now = followup.Now.ToUnixTimeMilliseconds();
            await using (var insert = Sql.Command(connection,
                $"""
                INSERT INTO followups (session_id, key, input, created_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (session_id, key) DO NOTHING
                RETURNING {FollowupColumns}
                """,
                followup.SessionId, followup.Key, followup.InputJson, now))
            {
                await using var row = await insert.ExecuteReaderAsync(ct).ConfigureAwait(false);
                if (await row.ReadAsync(ct).ConfigureAwait(false))
                {
                    return new WriteOutcome<FollowupReceipt>(new FollowupReceipt(ReadFollowup(row), Duplicate: false), null, 0);
                }
            }

            // A concurrent request with the same key committed first.
            var first = await SelectFollowupByKeyAsync(connection, followup.SessionId, followup.Key, ct).ConfigureAwait(false)
                ?? throw new InvalidOperationException("A follow-up key conflicted but its row is not visible.");
            return new WriteOutcome<FollowupReceipt>(new FollowupReceipt(first, Duplicate: true), null, 0);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<QueuedFollowup?> TakeFollowupAsync(string sessionId, CancellationToken cancellationToken) =>
        WriteAsync(sessionId, async (connection, ct) =>
        {
            // SKIP LOCKED: concurrent takers each lock a different pending row instead of queueing on the oldest one.
            await using var take = Sql.Command(connection,
                $"""
                UPDATE followups SET taken = true
                WHERE id = (SELECT id FROM followups WHERE session_id = $1 AND NOT taken ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING {FollowupColumns}
                """,
                sessionId);
            await using var row = await take.ExecuteReaderAsync(ct).ConfigureAwait(false);
            var taken = await row.ReadAsync(ct).ConfigureAwait(false) ? ReadFollowup(row) : null;
            return new WriteOutcome<QueuedFollowup?>(taken, null, 0);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<int> CountFollowupsAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, "SELECT count(*) FROM followups WHERE session_id = $1 AND NOT taken", sessionId);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListSessionsWithFollowupsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, "SELECT DISTINCT session_id FROM followups WHERE NOT taken");
        var ids = new List<string>();
        await using var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await row.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(row.GetString(0));
        }

        return ids;
    }

    private static async Task<QueuedFollowup?> SelectFollowupByKeyAsync(
        NpgsqlConnection connection, string sessionId, string key, CancellationToken ct)
    {
        await using var command = Sql.Command(connection,
            $"SELECT {FollowupColumns} FROM followups WHERE session_id = $1 AND key = $2", sessionId, key);
        await using var row = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await row.ReadAsync(ct).ConfigureAwait(false) ? ReadFollowup(row) : null;
    }

    private static QueuedFollowup ReadFollowup(NpgsqlDataReader row) => new(
        row.GetInt64(0), row.GetString(1), row.GetString(2), row.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(4)));
}
