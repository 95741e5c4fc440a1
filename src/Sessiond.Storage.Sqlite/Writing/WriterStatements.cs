using System.Text.Json;
using Microsoft.Data.Sqlite;
using Sessiond.Core.Events;
using Sessiond.Core.Json;
using Sessiond.Core.Sessions;
using Sessiond.Core.State;
using Sessiond.Storage.Sqlite.Reading;

namespace Sessiond.Storage.Sqlite.Writing;

/// <summary>
/// The writer's long-lived connection and its prepared commands, reused for every operation so that SQLite parses each
/// statement once. Only the writer task touches this; transactions and savepoints are plain SQL, so the commands need
/// no <see cref="SqliteTransaction"/>.
/// </summary>
internal sealed class WriterStatements : IDisposable
{
    private readonly List<SqliteCommand> _all = [];

    private readonly SqliteCommand _begin, _commit, _rollback, _savepoint, _release, _rollbackToSavepoint;
    private readonly SqliteCommand _selectSession, _selectSessionForAppend, _insertSession, _updateAfterAppend, _updateFields;
    private readonly SqliteCommand _insertEvent, _selectEventRange;
    private readonly SqliteCommand _selectIdempotency, _insertIdempotency;
    private readonly SqliteCommand _insertApp, _selectUserState, _upsertUserState, _selectAppState, _upsertAppState;
    private readonly SqliteCommand _deleteSession, _deleteEvents, _deleteIdempotency;
    private readonly SqliteCommand _insertFeed;

    public WriterStatements(SqliteConnection connection)
    {
        Connection = connection;
        _begin = Prepare("BEGIN IMMEDIATE");
        _commit = Prepare("COMMIT");
        _rollback = Prepare("ROLLBACK");
        _savepoint = Prepare("SAVEPOINT op");
        _release = Prepare("RELEASE op");
        _rollbackToSavepoint = Prepare("ROLLBACK TO op");

        _selectSession = Prepare($"SELECT {SessionRows.Columns} FROM {SessionRows.From} WHERE s.id = $id", "$id");
        _selectSessionForAppend = Prepare(
            "SELECT app_name, user_id, last_seq, input_tokens, output_tokens, cost, state, team_id, status, title FROM sessions WHERE id = $id",
            "$id");
        _insertSession = Prepare(
            """
            INSERT INTO sessions (id, app_name, user_id, team_id, scope, title, status, created_at, updated_at, last_seq,
                starred, metadata, input_tokens, output_tokens, cost, state)
            VALUES ($id, $app_name, $user_id, $team_id, $scope, $title, $status, $now, $now, $last_seq,
                0, $metadata, $input_tokens, $output_tokens, $cost, $state)
            ON CONFLICT (id) DO NOTHING
            """,
            "$id", "$app_name", "$user_id", "$team_id", "$scope", "$title", "$status", "$now", "$last_seq", "$metadata",
            "$input_tokens", "$output_tokens", "$cost", "$state");
        _updateAfterAppend = Prepare(
            """
            UPDATE sessions SET last_seq = $last_seq, updated_at = $now, input_tokens = $input_tokens,
                output_tokens = $output_tokens, cost = $cost, state = $state
            WHERE id = $id
            """,
            "$id", "$last_seq", "$now", "$input_tokens", "$output_tokens", "$cost", "$state");
        _updateFields = Prepare(
            "UPDATE sessions SET title = $title, starred = $starred, metadata = $metadata, updated_at = $now WHERE id = $id",
            "$id", "$title", "$starred", "$metadata", "$now");

        _insertEvent = Prepare("INSERT INTO events (session_id, seq, json) VALUES ($session_id, $seq, $json)",
            "$session_id", "$seq", "$json");
        _selectEventRange = Prepare(
            "SELECT seq, json FROM events WHERE session_id = $session_id AND seq >= $first AND seq <= $last ORDER BY seq",
            "$session_id", "$first", "$last");

        _selectIdempotency = Prepare(
            "SELECT request_hash, first_seq, last_seq FROM idempotency WHERE session_id = $session_id AND key = $key",
            "$session_id", "$key");
        _insertIdempotency = Prepare(
            """
            INSERT INTO idempotency (session_id, key, request_hash, first_seq, last_seq, created_at)
            VALUES ($session_id, $key, $request_hash, $first_seq, $last_seq, $now)
            """,
            "$session_id", "$key", "$request_hash", "$first_seq", "$last_seq", "$now");

        _insertApp = Prepare("INSERT INTO apps (name) VALUES ($name) ON CONFLICT (name) DO NOTHING", "$name");
        _selectUserState = Prepare("SELECT state FROM user_state WHERE app_name = $app_name AND user_id = $user_id",
            "$app_name", "$user_id");
        _upsertUserState = Prepare(
            """
            INSERT INTO user_state (app_name, user_id, state) VALUES ($app_name, $user_id, $state)
            ON CONFLICT (app_name, user_id) DO UPDATE SET state = excluded.state
            """,
            "$app_name", "$user_id", "$state");
        _selectAppState = Prepare("SELECT state FROM app_state WHERE app_name = $app_name", "$app_name");
        _upsertAppState = Prepare(
            """
            INSERT INTO app_state (app_name, state) VALUES ($app_name, $state)
            ON CONFLICT (app_name) DO UPDATE SET state = excluded.state
            """,
            "$app_name", "$state");

        _deleteSession = Prepare("DELETE FROM sessions WHERE id = $id", "$id");
        _deleteEvents = Prepare("DELETE FROM events WHERE session_id = $id", "$id");
        _deleteIdempotency = Prepare("DELETE FROM idempotency WHERE session_id = $id", "$id");
        _insertFeed = Prepare(
            """
            INSERT INTO feed (app_name, user_id, session_id, kind, team_id, last_seq, status, title, at)
            VALUES ($app_name, $user_id, $session_id, $kind, $team_id, $last_seq, $status, $title, $at)
            RETURNING id
            """,
            "$app_name", "$user_id", "$session_id", "$kind", "$team_id", "$last_seq", "$status", "$title", "$at");
    }

    public SqliteConnection Connection { get; }

    public void Begin() => _begin.ExecuteNonQuery();

    public void Commit() => _commit.ExecuteNonQuery();

    /// <summary>Rolls back the open transaction, if SQLite has not already done so itself after an I/O error.</summary>
    public void TryRollback()
    {
        try
        {
            _rollback.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // "no transaction is active": SQLite rolled back on its own, which is the state we want.
        }
    }

    public void Savepoint() => _savepoint.ExecuteNonQuery();

    public void ReleaseSavepoint() => _release.ExecuteNonQuery();

    public void RollbackToSavepoint()
    {
        _rollbackToSavepoint.ExecuteNonQuery();
        _release.ExecuteNonQuery();
    }

    /// <summary>The full session with merged state, as the writer's transaction sees it.</summary>
    public Session? SelectSession(string id)
    {
        _selectSession.Parameters[0].Value = id;
        using var row = _selectSession.ExecuteReader();
        return row.Read() ? SessionRows.Read(row) : null;
    }

    /// <summary>The columns an append reads and rewrites.</summary>
    public AppendTarget? SelectSessionForAppend(string id)
    {
        _selectSessionForAppend.Parameters[0].Value = id;
        using var row = _selectSessionForAppend.ExecuteReader();
        return row.Read()
            ? new AppendTarget(
                row.GetString(0), row.GetString(1), row.GetInt64(2),
                new EventUsage(row.GetInt64(3), row.GetInt64(4), row.GetDecimal(5)),
                SessionRows.ReadMap(row, 6),
                row.IsDBNull(7) ? null : row.GetString(7),
                row.GetString(8),
                row.IsDBNull(9) ? null : row.GetString(9))
            : null;
    }

    /// <summary>Inserts a new session row; false when the id is taken.</summary>
    public bool InsertSession(
        string id, string appName, string userId, string? teamId, string scope, string? title, long now, long lastSeq,
        IReadOnlyDictionary<string, JsonElement> metadata, EventUsage usage, IReadOnlyDictionary<string, JsonElement> state)
    {
        var p = _insertSession.Parameters;
        p[0].Value = id;
        p[1].Value = appName;
        p[2].Value = userId;
        p[3].Value = (object?)teamId ?? DBNull.Value;
        p[4].Value = scope;
        p[5].Value = (object?)title ?? DBNull.Value;
        p[6].Value = SessionStatus.Idle;
        p[7].Value = now;
        p[8].Value = lastSeq;
        p[9].Value = SessionRows.MapValue(metadata);
        p[10].Value = usage.InputTokens;
        p[11].Value = usage.OutputTokens;
        p[12].Value = usage.Cost;
        p[13].Value = SessionRows.MapValue(state);
        return _insertSession.ExecuteNonQuery() == 1;
    }

    public void UpdateAfterAppend(string id, long lastSeq, long now, EventUsage usage, IReadOnlyDictionary<string, JsonElement> state)
    {
        var p = _updateAfterAppend.Parameters;
        p[0].Value = id;
        p[1].Value = lastSeq;
        p[2].Value = now;
        p[3].Value = usage.InputTokens;
        p[4].Value = usage.OutputTokens;
        p[5].Value = usage.Cost;
        p[6].Value = SessionRows.MapValue(state);
        _updateAfterAppend.ExecuteNonQuery();
    }

    public void UpdateFields(string id, string? title, bool starred, IReadOnlyDictionary<string, JsonElement> metadata, long now)
    {
        var p = _updateFields.Parameters;
        p[0].Value = id;
        p[1].Value = (object?)title ?? DBNull.Value;
        p[2].Value = starred ? 1 : 0;
        p[3].Value = SessionRows.MapValue(metadata);
        p[4].Value = now;
        _updateFields.ExecuteNonQuery();
    }

    /// <summary>
    /// Gives the events <paramref name="firstSeq"/>, <paramref name="firstSeq"/> + 1, ... and stores them; each comes as its
    /// JSON without a seq (<see cref="UnsequencedEvents"/>), so the writer only splices the seq in.
    /// </summary>
    public List<StoredEvent> InsertEvents(string sessionId, IReadOnlyList<byte[]> unsequenced, long firstSeq)
    {
        var stored = new List<StoredEvent>(unsequenced.Count);
        var p = _insertEvent.Parameters;
        p[0].Value = sessionId;
        for (var i = 0; i < unsequenced.Count; i++)
        {
            var seq = firstSeq + i;
            var json = SessiondJson.WithSeq(unsequenced[i], seq);
            p[1].Value = seq;
            p[2].Value = json;
            _insertEvent.ExecuteNonQuery();
            stored.Add(new StoredEvent(seq, json));
        }

        return stored;
    }

    public List<StoredEvent> SelectEventRange(string sessionId, long firstSeq, long lastSeq)
    {
        var p = _selectEventRange.Parameters;
        p[0].Value = sessionId;
        p[1].Value = firstSeq;
        p[2].Value = lastSeq;
        var events = new List<StoredEvent>();
        using var row = _selectEventRange.ExecuteReader();
        while (row.Read())
        {
            events.Add(new StoredEvent(row.GetInt64(0), row.GetFieldValue<byte[]>(1)));
        }

        return events;
    }

    public (string RequestHash, long FirstSeq, long LastSeq)? SelectIdempotency(string sessionId, string key)
    {
        var p = _selectIdempotency.Parameters;
        p[0].Value = sessionId;
        p[1].Value = key;
        using var row = _selectIdempotency.ExecuteReader();
        return row.Read() ? (row.GetString(0), row.GetInt64(1), row.GetInt64(2)) : null;
    }

    public void InsertIdempotency(string sessionId, string key, string requestHash, long firstSeq, long lastSeq, long now)
    {
        var p = _insertIdempotency.Parameters;
        p[0].Value = sessionId;
        p[1].Value = key;
        p[2].Value = requestHash;
        p[3].Value = firstSeq;
        p[4].Value = lastSeq;
        p[5].Value = now;
        _insertIdempotency.ExecuteNonQuery();
    }

    public void InsertApp(string appName)
    {
        _insertApp.Parameters[0].Value = appName;
        _insertApp.ExecuteNonQuery();
    }

    public Dictionary<string, JsonElement> SelectUserState(string appName, string userId)
    {
        _selectUserState.Parameters[0].Value = appName;
        _selectUserState.Parameters[1].Value = userId;
        using var row = _selectUserState.ExecuteReader();
        return row.Read() ? SessionRows.ReadMap(row, 0) : [];
    }

    public Dictionary<string, JsonElement> SelectAppState(string appName)
    {
        _selectAppState.Parameters[0].Value = appName;
        using var row = _selectAppState.ExecuteReader();
        return row.Read() ? SessionRows.ReadMap(row, 0) : [];
    }

    /// <summary>Applies the user- and app-scope changes (read, modify, write inside the open transaction).</summary>
    public void ApplySharedState(string appName, string userId, StateChanges changes)
    {
        if (changes.User.Count > 0)
        {
            var state = StateChanges.Apply(SelectUserState(appName, userId), changes.User);
            var p = _upsertUserState.Parameters;
            p[0].Value = appName;
            p[1].Value = userId;
            p[2].Value = SessiondJson.SerializeMap(state);
            _upsertUserState.ExecuteNonQuery();
        }

        if (changes.App.Count > 0)
        {
            var state = StateChanges.Apply(SelectAppState(appName), changes.App);
            var p = _upsertAppState.Parameters;
            p[0].Value = appName;
            p[1].Value = SessiondJson.SerializeMap(state);
            _upsertAppState.ExecuteNonQuery();
        }
    }

    /// <summary>Deletes the session row, its events and its idempotency keys; false when there was no such session.</summary>
    public bool DeleteSession(string id)
    {
        _deleteSession.Parameters[0].Value = id;
        if (_deleteSession.ExecuteNonQuery() == 0)
        {
            return false;
        }

        _deleteEvents.Parameters[0].Value = id;
        _deleteEvents.ExecuteNonQuery();
        _deleteIdempotency.Parameters[0].Value = id;
        _deleteIdempotency.ExecuteNonQuery();
        return true;
    }

    /// <summary>Records a notice in the user's feed, in the open transaction, and returns it with its feed id.</summary>
    public FeedNotice InsertFeed(FeedNotice notice)
    {
        var p = _insertFeed.Parameters;
        p[0].Value = notice.AppName;
        p[1].Value = notice.UserId;
        p[2].Value = notice.SessionId;
        p[3].Value = notice.Kind;
        p[4].Value = (object?)notice.TeamId ?? DBNull.Value;
        p[5].Value = notice.LastSeq;
        p[6].Value = notice.Status;
        p[7].Value = (object?)notice.Title ?? DBNull.Value;
        p[8].Value = notice.At.ToUnixTimeMilliseconds();
        return notice with { Id = Convert.ToInt64(_insertFeed.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) };
    }

    public void Dispose()
    {
        foreach (var command in _all)
        {
            command.Dispose();
        }
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = Connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        _all.Add(command);
        return command;
    }
}
