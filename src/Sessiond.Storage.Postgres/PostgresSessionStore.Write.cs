using System.Text.Json;
using Npgsql;
using Sessiond.Core.Errors;
using Sessiond.Core.Events;
using Sessiond.Core.Json;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Core.State;
using Sessiond.Storage.Postgres.Reading;
using Sessiond.Storage.Postgres.Writing;

namespace Sessiond.Storage.Postgres;

/// <summary>
/// Writes. Lock order, the same in every write so none can deadlock another: the session row, then the user's state
/// row, then the app's state row, then (in <see cref="FeedCommand"/>) the user's feed lock.
/// </summary>
public sealed partial class PostgresSessionStore
{
    private const string AppendTargetColumns = "app_name, user_id, last_seq, input_tokens, output_tokens, cost, state, team_id, status, title";

    /// <inheritdoc />
    public Task<Session> CreateSessionAsync(NewSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        return WriteAsync(session.Id, async (connection, ct) =>
        {
            var now = session.Now.ToUnixTimeMilliseconds();
            var lastSeq = (long)session.Events.Count;
            var sessionState = StateChanges.Apply(StateChanges.None.Session, session.State.Session);
            // An empty title means none, as it does for an update.
            var title = string.IsNullOrEmpty(session.Title) ? null : session.Title;

            await using var insert = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    Sql.Command(
                        """
                        INSERT INTO sessions (id, app_name, user_id, team_id, scope, title, status, created_at, updated_at, last_seq,
                            starred, metadata, input_tokens, output_tokens, cost, state)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, false, $10, $11, $12, $13, $14)
                        ON CONFLICT (id) DO NOTHING
                        """,
                        session.Id, session.AppName, session.UserId, session.TeamId, session.Scope, title, SessionStatus.Idle, now,
                        lastSeq, SessionRows.MapValue(session.Metadata), session.Usage.InputTokens, session.Usage.OutputTokens,
                        session.Usage.Cost, SessionRows.MapValue(sessionState)),
                    Sql.Command("INSERT INTO apps (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", session.AppName),
                },
            };
            var shared = await SharedStateAsync(insert, session.AppName, session.UserId, session.State, alwaysRead: true, ct)
                .ConfigureAwait(false);
            if (insert.BatchCommands[0].RecordsAffected == 0)
            {
                throw SessionErrors.SessionExists(session.Id);
            }

            var events = SerializeEvents(session.Events, firstSeq: 1);
            var timestamp = DateTimeOffset.FromUnixTimeMilliseconds(now);
            var created = new Session
            {
                Id = session.Id,
                AppName = session.AppName,
                UserId = session.UserId,
                TeamId = session.TeamId,
                Scope = session.Scope,
                Title = title,
                Status = SessionStatus.Idle,
                CreatedAt = timestamp,
                UpdatedAt = timestamp,
                LastSeq = lastSeq,
                Metadata = session.Metadata,
                Usage = session.Usage,
                State = StateChanges.Merge(sessionState, shared.User, shared.App),
            };

            await using var write = new NpgsqlBatch(connection);
            AddInsertEvents(write, session.Id, events);
            AddSharedStateUpdates(write, session.AppName, session.UserId, shared);
            var notice = FeedNotices.Of(created, FeedNoticeKind.Created);
            var (feed, token) = FeedCommand(notice, events.Count);
            write.BatchCommands.Add(feed);
            var feedId = await ExecuteFeedAsync(write, ct).ConfigureAwait(false);
            return new WriteOutcome<Session>(created, new CommittedChange(notice.SessionId, events, notice with { Id = feedId }), token);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Session> UpdateSessionAsync(string sessionId, SessionPatch patch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(patch);
        return WriteAsync(sessionId, async (connection, ct) =>
        {
            var current = await SelectSessionForUpdateAsync(connection, sessionId, ct).ConfigureAwait(false)
                ?? throw SessionErrors.SessionNotFound(sessionId);
            var title = patch.Title is null ? current.Title : patch.Title.Length == 0 ? null : patch.Title;
            var starred = patch.Starred ?? current.Starred;
            var metadata = patch.Metadata is null ? current.Metadata : StateChanges.Apply(current.Metadata, patch.Metadata);
            var now = patch.Now.ToUnixTimeMilliseconds();
            var updated = current with
            {
                Title = title,
                Starred = starred,
                Metadata = metadata,
                UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(now),
            };

            await using var write = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    Sql.Command("UPDATE sessions SET title = $2, starred = $3, metadata = $4, updated_at = $5 WHERE id = $1",
                        sessionId, title, starred, SessionRows.MapValue(metadata), now),
                },
            };
            var notice = FeedNotices.Of(updated, FeedNoticeKind.Updated);
            var (feed, token) = FeedCommand(notice, 0);
            write.BatchCommands.Add(feed);
            var feedId = await ExecuteFeedAsync(write, ct).ConfigureAwait(false);
            return new WriteOutcome<Session>(updated, new CommittedChange(notice.SessionId, [], notice with { Id = feedId }), token);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        WriteAsync(sessionId, async (connection, ct) =>
        {
            AppendTarget? target;
            await using (var delete = Sql.Command(connection, $"DELETE FROM sessions WHERE id = $1 RETURNING {AppendTargetColumns}", sessionId))
            {
                await using var row = await delete.ExecuteReaderAsync(ct).ConfigureAwait(false);
                target = await row.ReadAsync(ct).ConfigureAwait(false) ? ReadAppendTarget(row) : null;
            }

            if (target is null)
            {
                return new WriteOutcome<bool>(false, null, 0);
            }

            // The session row is gone and locked until the commit, so no append can add events behind this.
            await using var write = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    Sql.Command("DELETE FROM events WHERE session_id = $1", sessionId),
                    Sql.Command("DELETE FROM idempotency WHERE session_id = $1", sessionId),
                    Sql.Command("DELETE FROM followups WHERE session_id = $1", sessionId),
                },
            };
            var notice = FeedNotices.Of(target, sessionId, FeedNoticeKind.Deleted, target.LastSeq, _time.GetUtcNow());
            var (feed, token) = FeedCommand(notice, 0);
            write.BatchCommands.Add(feed);
            var feedId = await ExecuteFeedAsync(write, ct).ConfigureAwait(false);
            return new WriteOutcome<bool>(true, new CommittedChange(notice.SessionId, [], notice with { Id = feedId }), token);
        }, cancellationToken);

    /// <inheritdoc />
    public Task<AppendResult> AppendEventsAsync(AppendBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return WriteAsync(batch.SessionId, async (connection, ct) =>
        {
            // The row lock is the session's only serialisation point: writers of other sessions never wait for it, and
            // those of this one see the last seq (and idempotency keys) the previous holder committed.
            AppendTarget? target;
            (string RequestHash, long FirstSeq, long LastSeq)? seen = null;
            await using (var read = new NpgsqlBatch(connection)
            {
                BatchCommands = { Sql.Command($"SELECT {AppendTargetColumns} FROM sessions WHERE id = $1 FOR UPDATE", batch.SessionId) },
            })
            {
                if (batch.Idempotency is { } key)
                {
                    read.BatchCommands.Add(Sql.Command(
                        "SELECT request_hash, first_seq, last_seq FROM idempotency WHERE session_id = $1 AND key = $2",
                        batch.SessionId, key.Key));
                }

                await using var row = await read.ExecuteReaderAsync(ct).ConfigureAwait(false);
                target = await row.ReadAsync(ct).ConfigureAwait(false) ? ReadAppendTarget(row) : null;
                if (batch.Idempotency is not null && await row.NextResultAsync(ct).ConfigureAwait(false)
                    && await row.ReadAsync(ct).ConfigureAwait(false))
                {
                    seen = (row.GetString(0), row.GetInt64(1), row.GetInt64(2));
                }
            }

            if (target is null)
            {
                throw SessionErrors.SessionNotFound(batch.SessionId);
            }

            // A retry of a request already committed answers with its first result, whatever the session did since;
            // so the key is checked before the expected seq, which a retry would otherwise fail.
            if (seen is { } first)
            {
                if (!string.Equals(first.RequestHash, batch.Idempotency!.RequestHash, StringComparison.Ordinal))
                {
                    throw SessionErrors.IdempotencyKeyReused();
                }

                var replay = await ReadEventRangeAsync(connection, batch.SessionId, first.FirstSeq, first.LastSeq, ct).ConfigureAwait(false);
                return new WriteOutcome<AppendResult>(new AppendResult(replay, first.LastSeq, Replayed: true), null, 0);
            }

            if (batch.FencingToken is { } fencing)
            {
                // The session row is locked, so the lease cannot change before this commit.
                await RequireCurrentLeaseAsync(connection, batch.SessionId, fencing, ct).ConfigureAwait(false);
            }

            if (batch.ExpectedLastSeq is { } expected && expected != target.LastSeq)
            {
                throw new SeqConflictException(expected, target.LastSeq);
            }

            var firstSeq = target.LastSeq + 1;
            var lastSeq = target.LastSeq + batch.Events.Count;
            var now = batch.Now.ToUnixTimeMilliseconds();
            var events = SerializeEvents(batch.Events, firstSeq);
            var sessionState = batch.State.Session.Count == 0 ? target.State : StateChanges.Apply(target.State, batch.State.Session);
            var usage = target.Usage.Add(batch.Usage);

            SharedState? shared = null;
            if (batch.State.User.Count > 0 || batch.State.App.Count > 0)
            {
                await using var lockShared = new NpgsqlBatch(connection);
                shared = await SharedStateAsync(lockShared, target.AppName, target.UserId, batch.State, alwaysRead: false, ct)
                    .ConfigureAwait(false);
            }

            await using var write = new NpgsqlBatch(connection);
            AddInsertEvents(write, batch.SessionId, events);
            write.BatchCommands.Add(Sql.Command(
                """
                UPDATE sessions SET last_seq = $2, updated_at = $3, input_tokens = $4, output_tokens = $5, cost = $6, state = $7
                WHERE id = $1
                """,
                batch.SessionId, lastSeq, now, usage.InputTokens, usage.OutputTokens, usage.Cost, SessionRows.MapValue(sessionState)));
            if (shared is not null)
            {
                AddSharedStateUpdates(write, target.AppName, target.UserId, shared);
            }

            if (batch.Idempotency is { } token)
            {
                write.BatchCommands.Add(Sql.Command(
                    """
                    INSERT INTO idempotency (session_id, key, request_hash, first_seq, last_seq, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    """,
                    batch.SessionId, token.Key, token.RequestHash, firstSeq, lastSeq, now));
            }

            var notice = FeedNotices.Of(target, batch.SessionId, FeedNoticeKind.Updated, lastSeq, batch.Now);
            var (feed, hintToken) = FeedCommand(notice, events.Count);
            write.BatchCommands.Add(feed);
            var feedId = await ExecuteFeedAsync(write, ct).ConfigureAwait(false);
            return new WriteOutcome<AppendResult>(
                new AppendResult(events, lastSeq, Replayed: false), new CommittedChange(notice.SessionId, events, notice with { Id = feedId }), hintToken);
        }, cancellationToken);
    }

    /// <summary>The full session with merged state, its row locked until the transaction ends.</summary>
    private static async Task<Session?> SelectSessionForUpdateAsync(NpgsqlConnection connection, string sessionId, CancellationToken ct)
    {
        await using var command = Sql.Command(connection, $"SELECT {SessionRows.Columns} FROM {SessionRows.From} WHERE s.id = $1 FOR UPDATE OF s", sessionId);
        await using var row = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await row.ReadAsync(ct).ConfigureAwait(false) ? SessionRows.Read(row) : null;
    }

    private static AppendTarget ReadAppendTarget(NpgsqlDataReader row) => new(
        row.GetString(0), row.GetString(1), row.GetInt64(2),
        new EventUsage(row.GetInt64(3), row.GetInt64(4), row.GetDecimal(5)),
        SessionRows.ReadMap(row, 6),
        row.IsDBNull(7) ? null : row.GetString(7),
        row.GetString(8),
        row.IsDBNull(9) ? null : row.GetString(9));

    /// <summary>Gives the events <paramref name="firstSeq"/>, <paramref name="firstSeq"/> + 1, ... and serialises each once.</summary>
    private static List<StoredEvent> SerializeEvents(IReadOnlyList<SessionEvent> events, long firstSeq)
    {
        var stored = new List<StoredEvent>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            var seq = firstSeq + i;
            stored.Add(new StoredEvent(seq, SessiondJson.SerializeEvent(events[i] with { Seq = seq })));
        }

        return stored;
    }

    private static void AddInsertEvents(NpgsqlBatch batch, string sessionId, List<StoredEvent> events)
    {
        if (events.Count > 0)
        {
            batch.BatchCommands.Add(Sql.Command(
                "INSERT INTO events (session_id, seq, json) SELECT $1, unnest($2::bigint[]), unnest($3::bytea[])",
                sessionId, events.Select(e => e.Seq).ToArray(), Sql.ByteaArray([.. events.Select(e => e.Json)])));
        }
    }

    /// <summary>
    /// Runs <paramref name="batch"/> with the statements that read the user's and app's state: a scope the changes touch
    /// gets its row made and locked (so concurrent read-modify-writes of it cannot lose an update); the others are read
    /// only when <paramref name="alwaysRead"/> (a create returns the merged state).
    /// </summary>
    private static async Task<SharedState> SharedStateAsync(
        NpgsqlBatch batch, string appName, string userId, StateChanges changes, bool alwaysRead, CancellationToken ct)
    {
        var readUser = alwaysRead || changes.User.Count > 0;
        var readApp = alwaysRead || changes.App.Count > 0;
        if (changes.User.Count > 0)
        {
            batch.BatchCommands.Add(Sql.Command(
                "INSERT INTO user_state (app_name, user_id, state) VALUES ($1, $2, '\\x7b7d'::bytea) ON CONFLICT DO NOTHING", appName, userId));
        }

        if (readUser)
        {
            batch.BatchCommands.Add(Sql.Command(
                "SELECT state FROM user_state WHERE app_name = $1 AND user_id = $2" + (changes.User.Count > 0 ? " FOR UPDATE" : ""),
                appName, userId));
        }

        if (changes.App.Count > 0)
        {
            batch.BatchCommands.Add(Sql.Command(
                "INSERT INTO app_state (app_name, state) VALUES ($1, '\\x7b7d'::bytea) ON CONFLICT DO NOTHING", appName));
        }

        if (readApp)
        {
            batch.BatchCommands.Add(Sql.Command(
                "SELECT state FROM app_state WHERE app_name = $1" + (changes.App.Count > 0 ? " FOR UPDATE" : ""), appName));
        }

        Dictionary<string, JsonElement> user = [], app = [];
        await using (var row = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            if (readUser)
            {
                user = await ReadStateRowAsync(row, ct).ConfigureAwait(false);
                await row.NextResultAsync(ct).ConfigureAwait(false);
            }

            if (readApp)
            {
                app = await ReadStateRowAsync(row, ct).ConfigureAwait(false);
            }
        }

        return new SharedState(
            changes.User.Count > 0 ? StateChanges.Apply(user, changes.User) : user,
            changes.App.Count > 0 ? StateChanges.Apply(app, changes.App) : app,
            changes.User.Count > 0,
            changes.App.Count > 0);
    }

    private static async Task<Dictionary<string, JsonElement>> ReadStateRowAsync(NpgsqlDataReader row, CancellationToken ct) =>
        await row.ReadAsync(ct).ConfigureAwait(false) ? SessionRows.ReadMap(row, 0) : [];

    private static void AddSharedStateUpdates(NpgsqlBatch batch, string appName, string userId, SharedState shared)
    {
        if (shared.UserChanged)
        {
            batch.BatchCommands.Add(Sql.Command("UPDATE user_state SET state = $3 WHERE app_name = $1 AND user_id = $2",
                appName, userId, SessiondJson.SerializeMap(shared.User)));
        }

        if (shared.AppChanged)
        {
            batch.BatchCommands.Add(Sql.Command("UPDATE app_state SET state = $2 WHERE app_name = $1",
                appName, SessiondJson.SerializeMap(shared.App)));
        }
    }

    /// <summary>Runs a batch whose last statement is <see cref="FeedCommand"/>'s, and returns the notice's feed id.</summary>
    private static async Task<long> ExecuteFeedAsync(NpgsqlBatch batch, CancellationToken ct)
    {
        await using var row = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await row.ReadAsync(ct).ConfigureAwait(false))
        {
            throw new InvalidOperationException("The feed statement returned no id.");
        }

        return row.GetInt64(0);
    }

    private static async Task<List<StoredEvent>> ReadEventRangeAsync(
        NpgsqlConnection connection, string sessionId, long firstSeq, long lastSeq, CancellationToken ct)
    {
        await using var command = Sql.Command(connection,
            "SELECT seq, json FROM events WHERE session_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq", sessionId, firstSeq, lastSeq);
        return await ReadEventRowsAsync(command, 16, ct).ConfigureAwait(false);
    }

    /// <summary>The user's and app's state after a write's changes, and which of them it changed.</summary>
    private sealed record SharedState(
        Dictionary<string, JsonElement> User, Dictionary<string, JsonElement> App, bool UserChanged, bool AppChanged);
}
