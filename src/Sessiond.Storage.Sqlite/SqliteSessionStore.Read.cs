using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Sessiond.Core.Events;
using Sessiond.Core.Sessions;
using Sessiond.Storage.Sqlite.Reading;

namespace Sessiond.Storage.Sqlite;

/// <summary>Reads, on pooled read-only connections; never on the writer's connection.</summary>
public sealed partial class SqliteSessionStore
{
    /// <inheritdoc />
    public async Task<Session?> GetSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {SessionRows.Columns} FROM {SessionRows.From} WHERE s.id = $id";
        command.Parameters.AddWithValue("$id", sessionId);
        await using var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await row.ReadAsync(cancellationToken).ConfigureAwait(false) ? SessionRows.Read(row) : null;
    }

    /// <inheritdoc />
    public async Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        PrepareListCommand(command, query);

        var sessions = new List<Session>(Math.Min(query.Limit, 1000) + 1);
        var shared = new SharedStateCache();
        await using (var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await row.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                sessions.Add(SessionRows.Read(row, shared));
            }
        }

        // One row beyond the page says whether another page follows.
        if (sessions.Count <= query.Limit)
        {
            return new SessionPage(sessions, null);
        }

        sessions.RemoveAt(sessions.Count - 1);
        var last = sessions[^1];
        return new SessionPage(sessions, new SessionCursor(last.UpdatedAt.ToUnixTimeMilliseconds(), last.Id));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(
        string sessionId, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        if (limit <= 0)
        {
            return [];
        }

        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, json FROM events WHERE session_id = $id AND seq > $after ORDER BY seq LIMIT $limit";
        command.Parameters.AddWithValue("$id", sessionId);
        command.Parameters.AddWithValue("$after", afterSeq);
        command.Parameters.AddWithValue("$limit", limit);
        return await ReadEventRowsAsync(command, Math.Min(limit, 1024), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<FeedNotice>> ReadFeedAsync(
        string appName, string userId, long afterId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, session_id, kind, team_id, last_seq, status, title, at FROM feed
            WHERE app_name = $app AND user_id = $user AND id > $after ORDER BY id LIMIT $limit
            """;
        command.Parameters.AddWithValue("$app", appName);
        command.Parameters.AddWithValue("$user", userId);
        command.Parameters.AddWithValue("$after", afterId);
        command.Parameters.AddWithValue("$limit", limit);
        var notices = new List<FeedNotice>();
        await using var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await row.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            notices.Add(new FeedNotice
            {
                Id = row.GetInt64(0),
                SessionId = row.GetString(1),
                Kind = row.GetString(2),
                AppName = appName,
                UserId = userId,
                TeamId = row.IsDBNull(3) ? null : row.GetString(3),
                LastSeq = row.GetInt64(4),
                Status = row.GetString(5),
                Title = row.IsDBNull(6) ? null : row.GetString(6),
                At = DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(7)),
            });
        }

        return notices;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListAppsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM apps ORDER BY name";
        var apps = new List<string>();
        await using var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await row.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            apps.Add(row.GetString(0));
        }

        return apps;
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, JsonElement>> GetAppStateAsync(string appName, CancellationToken cancellationToken) =>
        ReadStateAsync("SELECT state FROM app_state WHERE app_name = $app", appName, null, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, JsonElement>> GetUserStateAsync(
        string appName, string userId, CancellationToken cancellationToken) =>
        ReadStateAsync("SELECT state FROM user_state WHERE app_name = $app AND user_id = $user", appName, userId, cancellationToken);

    /// <summary>
    /// Builds the list query: exact-match filters, then the keyset condition, newest first. Each filter combination
    /// the surfaces use has an index whose order is the list order, so a page reads only its own rows.
    /// </summary>
    internal static void PrepareListCommand(SqliteCommand command, SessionQuery query)
    {
        var sql = new StringBuilder($"SELECT {SessionRows.Columns} FROM {SessionRows.From}");
        var parameters = command.Parameters;
        var conditions = 0;
        void Where(string condition)
        {
            sql.Append(conditions++ == 0 ? " WHERE " : " AND ").Append(condition);
        }

        void Equal(string column, string parameter, string? value)
        {
            if (value is not null)
            {
                Where($"s.{column} = {parameter}");
                parameters.AddWithValue(parameter, value);
            }
        }

        Equal("app_name", "$app", query.AppName);
        Equal("user_id", "$user", query.UserId);
        Equal("team_id", "$team", query.TeamId);
        Equal("scope", "$scope", query.Scope);
        Equal("status", "$status", query.Status);

        if (query.Starred is { } starred)
        {
            // A literal, not a parameter: only then can SQLite match the partial index of starred sessions.
            Where(starred ? "s.starred = 1" : "s.starred = 0");
        }

        if (query.VisibleTo is { } visibility)
        {
            AddVisibility(visibility, Where, parameters);
        }

        if (query.After is { } after)
        {
            // A row value, so SQLite seeks the index straight to the cursor instead of scanning the pages before it.
            Where("(s.updated_at, s.id) < ($after_updated, $after_id)");
            parameters.AddWithValue("$after_updated", after.UpdatedAtUnixMs);
            parameters.AddWithValue("$after_id", after.Id);
        }

        sql.Append(" ORDER BY s.updated_at DESC, s.id DESC LIMIT $limit");
        parameters.AddWithValue("$limit", (long)query.Limit + 1);
        command.CommandText = sql.ToString();
    }

    /// <summary>Limits a list to the caller's own sessions, its teams' team-scoped sessions, and its apps.</summary>
    private static void AddVisibility(SessionVisibility visibility, Action<string> where, SqliteParameterCollection parameters)
    {
        if (visibility.UserId is { } user)
        {
            parameters.AddWithValue("$vis_user", user);
            where(visibility.Teams.Count == 0
                ? "s.user_id = $vis_user"
                : $"(s.user_id = $vis_user OR (s.scope = 'team' AND s.team_id IN ({InList("$vis_team", visibility.Teams, parameters)})))");
        }

        if (visibility.Apps is { } apps)
        {
            where(apps.Count == 0 ? "0" : $"s.app_name IN ({InList("$vis_app", apps, parameters)})");
        }
    }

    /// <summary>Binds each value as its own parameter and returns the parameter list for an <c>IN (...)</c>.</summary>
    private static string InList(string prefix, IEnumerable<string> values, SqliteParameterCollection parameters) =>
        string.Join(", ", values.Select((value, i) =>
        {
            parameters.AddWithValue(prefix + i, value);
            return prefix + i;
        }));

    private async Task<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        if (_writerStopped is null)
        {
            throw new InvalidOperationException("Call InitializeAsync before using the SQLite store.");
        }

        var connection = new SqliteConnection(_readerConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<List<StoredEvent>> ReadEventRowsAsync(
        SqliteCommand command, int capacity, CancellationToken cancellationToken)
    {
        var events = new List<StoredEvent>(capacity);
        await using var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await row.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            events.Add(new StoredEvent(row.GetInt64(0), row.GetFieldValue<byte[]>(1)));
        }

        return events;
    }

    private async Task<IReadOnlyDictionary<string, JsonElement>> ReadStateAsync(
        string sql, string appName, string? userId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$app", appName);
        if (userId is not null)
        {
            command.Parameters.AddWithValue("$user", userId);
        }

        await using var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await row.ReadAsync(cancellationToken).ConfigureAwait(false) ? SessionRows.ReadMap(row, 0) : [];
    }
}
