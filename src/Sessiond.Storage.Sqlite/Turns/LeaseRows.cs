using Microsoft.Data.Sqlite;
using Sessiond.Core.Errors;
using Sessiond.Core.Ports;

namespace Sessiond.Storage.Sqlite.Turns;

/// <summary>Reads and writes the turn lease columns of the <c>sessions</c> table.</summary>
internal static class LeaseRows
{
    /// <summary>The columns <see cref="Read"/> expects, in order.</summary>
    public const string Columns = "id, lease_owner, lease_token, lease_expires_at";

    public static TurnLease Read(SqliteDataReader row) => new(
        row.GetString(0),
        row.IsDBNull(1) ? null : row.GetString(1),
        row.GetInt64(2),
        row.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(3)));

    /// <summary>The session's lease (owner null when none is held), or null when the session does not exist.</summary>
    public static TurnLease? Select(SqliteConnection connection, string sessionId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM sessions WHERE id = $id";
        command.Parameters.AddWithValue("$id", sessionId);
        using var row = command.ExecuteReader();
        return row.Read() ? Read(row) : null;
    }

    /// <summary>Throws <c>lease_lost</c> unless <paramref name="token"/> is the session's current, held lease.</summary>
    public static void RequireCurrent(SqliteConnection connection, string sessionId, long token)
    {
        var lease = Select(connection, sessionId) ?? throw SessionErrors.SessionNotFound(sessionId);
        if (lease.Owner is null || lease.Token != token)
        {
            throw SessionErrors.LeaseLost(sessionId, token);
        }
    }

    public static void Write(SqliteConnection connection, TurnLease lease)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE sessions SET lease_owner = $owner, lease_token = $token, lease_expires_at = $expires WHERE id = $id";
        command.Parameters.AddWithValue("$id", lease.SessionId);
        command.Parameters.AddWithValue("$owner", (object?)lease.Owner ?? DBNull.Value);
        command.Parameters.AddWithValue("$token", lease.Token);
        command.Parameters.AddWithValue("$expires", (object?)lease.ExpiresAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
        command.ExecuteNonQuery();
    }
}
