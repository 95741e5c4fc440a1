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

            var lease = (await SelectLeaseAsync(connection, sessionId, ct).ConfigureAwait(false))!;
            if (change.FencingToken is { } fencing && (lease.Owner is null || lease.Token != fencing))
            {
                throw SessionErrors.LeaseLost(sessionId, fencing);
            }

            TurnLease? taken = null;
            if (change.Lease is { } claim)
            {
                taken = new TurnLease(sessionId, claim.Owner, lease.Token + 1, claim.ExpiresAt);
            }
            else if (change.ReleaseLease)
            {
                lease = lease with { Owner = null, ExpiresAt = null };
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

            await using var write = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    Sql.Command(
                        "UPDATE sessions SET status = $2, agent = $3, model_override = $4, permissions = $5, updated_at = $6 WHERE id = $1",
                        sessionId, updated.Status, updated.Agent, updated.ModelOverride,
                        JsonSerializer.SerializeToUtf8Bytes(updated.Permissions, SessiondJson.Default.SessionPermissions),
                        change.Now.ToUnixTimeMilliseconds()),
                    LeaseCommand(taken ?? lease),
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

    private const string LeaseColumns = "id, lease_owner, lease_token, lease_expires_at";

    /// <inheritdoc />
    public Task RenewLeaseAsync(string sessionId, long token, DateTimeOffset until, CancellationToken cancellationToken) =>
        WriteAsync(sessionId, async (connection, ct) =>
        {
            await using var renew = Sql.Command(connection,
                "UPDATE sessions SET lease_expires_at = $3 WHERE id = $1 AND lease_token = $2 AND lease_owner IS NOT NULL",
                sessionId, token, until.ToUnixTimeMilliseconds());
            if (await renew.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0)
            {
                throw await SelectLeaseAsync(connection, sessionId, ct).ConfigureAwait(false) is null
                    ? SessionErrors.SessionNotFound(sessionId)
                    : SessionErrors.LeaseLost(sessionId, token);
            }

            return new WriteOutcome<bool>(true, null, 0);
        }, cancellationToken);

    /// <inheritdoc />
    public Task<TurnLease?> TakeOverLeaseAsync(string sessionId, long staleToken, LeaseClaim claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        return WriteAsync(sessionId, async (connection, ct) =>
        {
            // One statement is the compare-and-set: of several nodes repairing the same session, one updates the row.
            await using var take = Sql.Command(connection,
                $"""
                UPDATE sessions SET lease_owner = $3, lease_token = lease_token + 1, lease_expires_at = $5
                WHERE id = $1 AND lease_token = $2
                  AND (lease_owner IS NULL OR lease_owner = $3 OR lease_expires_at <= $4)
                RETURNING {LeaseColumns}
                """,
                sessionId, staleToken, claim.Owner, claim.Now.ToUnixTimeMilliseconds(), claim.ExpiresAt.ToUnixTimeMilliseconds());
            await using var row = await take.ExecuteReaderAsync(ct).ConfigureAwait(false);
            var taken = await row.ReadAsync(ct).ConfigureAwait(false) ? ReadLease(row) : null;
            return new WriteOutcome<TurnLease?>(taken, null, 0);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<TurnLease>> ListStaleLeasesAsync(
        DateTimeOffset now, string? owner, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // One arm per partial index (sessions_leased, sessions_running_unleased): a sweep never scans the table.
        await using var command = Sql.Command(connection,
            $"""
            (SELECT {LeaseColumns} FROM sessions WHERE lease_owner IS NOT NULL AND lease_expires_at <= $1 LIMIT $3)
            UNION
            (SELECT {LeaseColumns} FROM sessions WHERE lease_owner IS NOT NULL AND lease_owner = $2::text LIMIT $3)
            UNION ALL
            (SELECT {LeaseColumns} FROM sessions WHERE lease_owner IS NULL AND status = 'running' LIMIT $3)
            LIMIT $3
            """,
            now.ToUnixTimeMilliseconds(), owner, limit);
        var leases = new List<TurnLease>();
        await using var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await row.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            leases.Add(ReadLease(row));
        }

        return leases;
    }

    /// <summary>Throws <c>lease_lost</c> unless <paramref name="token"/> is the session's current, held lease.</summary>
    private static async Task RequireCurrentLeaseAsync(NpgsqlConnection connection, string sessionId, long token, CancellationToken ct)
    {
        var lease = await SelectLeaseAsync(connection, sessionId, ct).ConfigureAwait(false) ?? throw SessionErrors.SessionNotFound(sessionId);
        if (lease.Owner is null || lease.Token != token)
        {
            throw SessionErrors.LeaseLost(sessionId, token);
        }
    }

    private static async Task<TurnLease?> SelectLeaseAsync(NpgsqlConnection connection, string sessionId, CancellationToken ct)
    {
        await using var command = Sql.Command(connection, $"SELECT {LeaseColumns} FROM sessions WHERE id = $1", sessionId);
        await using var row = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await row.ReadAsync(ct).ConfigureAwait(false) ? ReadLease(row) : null;
    }

    private static NpgsqlBatchCommand LeaseCommand(TurnLease lease) => Sql.Command(
        "UPDATE sessions SET lease_owner = $2, lease_token = $3, lease_expires_at = $4 WHERE id = $1",
        lease.SessionId, lease.Owner, lease.Token, lease.ExpiresAt?.ToUnixTimeMilliseconds());

    private static TurnLease ReadLease(NpgsqlDataReader row) => new(
        row.GetString(0),
        row.IsDBNull(1) ? null : row.GetString(1),
        row.GetInt64(2),
        row.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(3)));
}
