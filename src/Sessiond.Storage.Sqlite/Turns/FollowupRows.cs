using Microsoft.Data.Sqlite;
using Sessiond.Core.Ports;

namespace Sessiond.Storage.Sqlite.Turns;

/// <summary>Reads rows of the <c>followups</c> table.</summary>
internal static class FollowupRows
{
    /// <summary>Reads <c>id, session_id, key, input, created_at</c>.</summary>
    public static QueuedFollowup Read(SqliteDataReader row) => new(
        row.GetInt64(0),
        row.GetString(1),
        row.GetString(2),
        System.Text.Encoding.UTF8.GetString(row.GetFieldValue<byte[]>(3)),
        DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(4)));

    public static QueuedFollowup? SelectByKey(SqliteConnection connection, string sessionId, string key)
    {
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT id, session_id, key, input, created_at FROM followups WHERE session_id = $session_id AND key = $key";
        command.Parameters.AddWithValue("$session_id", sessionId);
        command.Parameters.AddWithValue("$key", key);
        using var row = command.ExecuteReader();
        return row.Read() ? Read(row) : null;
    }
}
