using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Storage.Sqlite.Turns;

namespace Sessiond.Storage.Sqlite;

/// <summary>The runtime's part of the store: run fields and the follow-up queue.</summary>
public sealed partial class SqliteSessionStore
{
    /// <inheritdoc />
    public Task<Session> SetRunStateAsync(string sessionId, RunStateChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        return Enqueue(new SetRunStateOperation(sessionId, change, cancellationToken));
    }

    /// <inheritdoc />
    public Task<FollowupReceipt> EnqueueFollowupAsync(NewFollowup followup, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(followup);
        return Enqueue(new EnqueueFollowupOperation(followup, cancellationToken));
    }

    /// <inheritdoc />
    public Task<QueuedFollowup?> TakeFollowupAsync(string sessionId, CancellationToken cancellationToken) =>
        Enqueue(new TakeFollowupOperation(sessionId, cancellationToken));

    /// <inheritdoc />
    public async Task<int> CountFollowupsAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM followups WHERE session_id = $session_id AND taken = 0";
        command.Parameters.AddWithValue("$session_id", sessionId);
        return Convert.ToInt32(
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListSessionsWithFollowupsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT DISTINCT session_id FROM followups WHERE taken = 0";
        var ids = new List<string>();
        await using var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await row.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ids.Add(row.GetString(0));
        }

        return ids;
    }

    /// <inheritdoc />
    public Task RenewLeaseAsync(string sessionId, long token, DateTimeOffset until, CancellationToken cancellationToken) =>
        Enqueue(new RenewLeaseOperation(sessionId, token, until, cancellationToken));

    /// <inheritdoc />
    public Task<TurnLease?> TakeOverLeaseAsync(string sessionId, long staleToken, LeaseClaim claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        return Enqueue(new TakeOverLeaseOperation(sessionId, staleToken, claim, cancellationToken));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<TurnLease>> ListStaleLeasesAsync(
        DateTimeOffset now, string? owner, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {LeaseRows.Columns} FROM sessions WHERE lease_owner IS NOT NULL AND lease_expires_at <= $now
            UNION
            SELECT {LeaseRows.Columns} FROM sessions WHERE lease_owner IS NOT NULL AND lease_owner = $owner
            UNION ALL
            SELECT {LeaseRows.Columns} FROM sessions WHERE lease_owner IS NULL AND status = 'running'
            LIMIT $limit
            """;
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$owner", (object?)owner ?? DBNull.Value);
        command.Parameters.AddWithValue("$limit", limit);
        var leases = new List<TurnLease>();
        await using var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await row.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            leases.Add(LeaseRows.Read(row));
        }

        return leases;
    }
}
