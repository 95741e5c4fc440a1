using System.Data.Common;
using System.Text.Json;
using Sessiond.Core.Events;
using Sessiond.Core.Json;
using Sessiond.Core.Sessions;
using Sessiond.Core.State;

namespace Sessiond.Storage.Postgres.Reading;

/// <summary>The one mapping between a <c>sessions</c> row (joined with its user and app state) and <see cref="Session"/>.</summary>
internal static class SessionRows
{
    /// <summary>
    /// The columns every session query selects, in the order <see cref="Read"/> expects: the session row of <c>s</c>,
    /// then the state of its user (<c>u</c>) and app (<c>a</c>), both left-joined.
    /// </summary>
    public const string Columns =
        "s.id, s.app_name, s.user_id, s.team_id, s.scope, s.title, s.status, s.created_at, s.updated_at, s.last_seq, " +
        "s.starred, s.metadata, s.input_tokens, s.output_tokens, s.cost, s.agent, s.model_override, s.permissions, s.state, " +
        "u.state, a.state";

    /// <summary>The joins that go with <see cref="Columns"/>.</summary>
    public const string From =
        "sessions s LEFT JOIN user_state u ON u.app_name = s.app_name AND u.user_id = s.user_id " +
        "LEFT JOIN app_state a ON a.app_name = s.app_name";

    private const int UserStateOrdinal = 19;
    private const int AppStateOrdinal = 20;

    /// <summary>Reads the current row. <paramref name="cache"/>, when given, parses each user's and app's state once per query.</summary>
    public static Session Read(DbDataReader row, SharedStateCache? cache = null)
    {
        var appName = row.GetString(1);
        var userId = row.GetString(2);
        IReadOnlyDictionary<string, JsonElement> userState, appState;
        if (cache is null)
        {
            userState = ReadMap(row, UserStateOrdinal);
            appState = ReadMap(row, AppStateOrdinal);
        }
        else
        {
            userState = cache.User(appName, userId, row, UserStateOrdinal);
            appState = cache.App(appName, row, AppStateOrdinal);
        }

        return new Session
        {
            Id = row.GetString(0),
            AppName = appName,
            UserId = userId,
            TeamId = row.IsDBNull(3) ? null : row.GetString(3),
            Scope = row.GetString(4),
            Title = row.IsDBNull(5) ? null : row.GetString(5),
            Status = row.GetString(6),
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(7)),
            UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(8)),
            LastSeq = row.GetInt64(9),
            Starred = row.GetBoolean(10),
            Metadata = ReadMap(row, 11),
            Usage = new EventUsage(row.GetInt64(12), row.GetInt64(13), row.GetDecimal(14)),
            Agent = row.IsDBNull(15) ? null : row.GetString(15),
            ModelOverride = row.IsDBNull(16) ? null : row.GetString(16),
            Permissions = row.IsDBNull(17)
                ? SessionPermissions.Empty
                : JsonSerializer.Deserialize(row.GetFieldValue<byte[]>(17), SessiondJson.Default.SessionPermissions)
                    ?? SessionPermissions.Empty,
            State = StateChanges.Merge(ReadMap(row, 18), userState, appState),
        };
    }

    /// <summary>A JSON map column; NULL reads as an empty map.</summary>
    public static Dictionary<string, JsonElement> ReadMap(DbDataReader row, int ordinal) =>
        row.IsDBNull(ordinal) ? [] : SessiondJson.DeserializeMap(row.GetFieldValue<byte[]>(ordinal));

    /// <summary>A map as a column value: NULL when empty, so most rows carry nothing.</summary>
    public static object MapValue(IReadOnlyDictionary<string, JsonElement> map) =>
        map.Count == 0 ? DBNull.Value : SessiondJson.SerializeMap(map);

    /// <summary>Reads <c>id, session_id, kind, team_id, last_seq, status, title, at, app_name, user_id</c>.</summary>
    public static FeedNotice ReadNotice(DbDataReader row) => new()
    {
        Id = row.GetInt64(0),
        SessionId = row.GetString(1),
        Kind = row.GetString(2),
        TeamId = row.IsDBNull(3) ? null : row.GetString(3),
        LastSeq = row.GetInt64(4),
        Status = row.GetString(5),
        Title = row.IsDBNull(6) ? null : row.GetString(6),
        At = DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(7)),
        AppName = row.GetString(8),
        UserId = row.GetString(9),
    };

    /// <summary>The columns <see cref="ReadNotice"/> expects.</summary>
    public const string NoticeColumns = "id, session_id, kind, team_id, last_seq, status, title, at, app_name, user_id";
}
