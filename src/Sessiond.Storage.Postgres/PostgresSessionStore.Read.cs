using System.Text;
using System.Text.Json;
using Npgsql;
using Sessiond.Core.Events;
using Sessiond.Core.Sessions;
using Sessiond.Storage.Postgres.Reading;
using Sessiond.Storage.Postgres.Writing;

namespace Sessiond.Storage.Postgres;

/// <summary>Reads: single statements on pooled connections, outside any explicit transaction.</summary>
public sealed partial class PostgresSessionStore
{
    /// <inheritdoc />
    public async Task<Session?> GetSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, $"SELECT {SessionRows.Columns} FROM {SessionRows.From} WHERE s.id = $1", sessionId);
        await using var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await row.ReadAsync(cancellationToken).ConfigureAwait(false) ? SessionRows.Read(row) : null;
    }

    /// <inheritdoc />
    public async Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
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

        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection,
            "SELECT seq, json FROM events WHERE session_id = $1 AND seq > $2 ORDER BY seq LIMIT $3", sessionId, afterSeq, (long)limit);
        return await ReadEventRowsAsync(command, Math.Min(limit, 1024), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// A user's notices commit in id order (each takes its id under the user's feed lock), so a reader that saw id N
    /// has seen every committed notice of that user below N: resuming after N never skips one.
    /// </remarks>
    public async Task<IReadOnlyList<FeedNotice>> ReadFeedAsync(
        string appName, string userId, long afterId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection,
            $"SELECT {SessionRows.NoticeColumns} FROM feed WHERE app_name = $1 AND user_id = $2 AND id > $3 ORDER BY id LIMIT $4",
            appName, userId, afterId, (long)Math.Max(limit, 0));
        var notices = new List<FeedNotice>();
        await using var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await row.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            notices.Add(SessionRows.ReadNotice(row));
        }

        return notices;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListAppsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, "SELECT name FROM apps ORDER BY name");
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
        ReadStateAsync("SELECT state FROM app_state WHERE app_name = $1", cancellationToken, appName);

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, JsonElement>> GetUserStateAsync(
        string appName, string userId, CancellationToken cancellationToken) =>
        ReadStateAsync("SELECT state FROM user_state WHERE app_name = $1 AND user_id = $2", cancellationToken, appName, userId);

    /// <summary>
    /// Builds the list query: exact-match filters, then the keyset condition, newest first. Each filter combination
    /// the surfaces use has an index whose order is the list order, so a page reads only its own rows.
    /// </summary>
    internal static void PrepareListCommand(NpgsqlCommand command, SessionQuery query)
    {
        var sql = new StringBuilder($"SELECT {SessionRows.Columns} FROM {SessionRows.From}");
        var parameters = command.Parameters;
        var conditions = 0;
        void Where(string condition)
        {
            sql.Append(conditions++ == 0 ? " WHERE " : " AND ").Append(condition);
        }

        string Bind(object value)
        {
            parameters.Add(new NpgsqlParameter { Value = value });
            return "$" + parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        void Equal(string column, string? value)
        {
            if (value is not null)
            {
                Where($"s.{column} = {Bind(value)}");
            }
        }

        Equal("app_name", query.AppName);
        Equal("user_id", query.UserId);
        Equal("team_id", query.TeamId);
        Equal("scope", query.Scope);
        Equal("status", query.Status);

        if (query.Starred is { } starred)
        {
            // A literal, so the planner can match the partial index of starred sessions.
            Where(starred ? "s.starred" : "NOT s.starred");
        }

        if (query.VisibleTo is { } visibility)
        {
            if (visibility.UserId is { } user)
            {
                var self = $"s.user_id = {Bind(user)}";
                Where(visibility.Teams.Count == 0
                    ? self
                    : $"({self} OR (s.scope = 'team' AND s.team_id = ANY({Bind(visibility.Teams.ToArray())})))");
            }

            if (visibility.Apps is { } apps)
            {
                Where(apps.Count == 0 ? "false" : $"s.app_name = ANY({Bind(apps.ToArray())})");
            }
        }

        if (query.After is { } after)
        {
            // A row comparison, so the index scan starts right at the cursor.
            Where($"(s.updated_at, s.id) < ({Bind(after.UpdatedAtUnixMs)}, {Bind(after.Id)})");
        }

        sql.Append(" ORDER BY s.updated_at DESC, s.id DESC LIMIT ").Append(Bind((long)query.Limit + 1));
        command.CommandText = sql.ToString();
    }

    private static async Task<List<StoredEvent>> ReadEventRowsAsync(NpgsqlCommand command, int capacity, CancellationToken cancellationToken)
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
        string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Sql.Command(connection, sql, values);
        await using var row = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await row.ReadAsync(cancellationToken).ConfigureAwait(false) ? SessionRows.ReadMap(row, 0) : [];
    }
}
