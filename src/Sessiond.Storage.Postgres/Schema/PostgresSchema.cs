using System.Globalization;
using Npgsql;

namespace Sessiond.Storage.Postgres.Schema;

/// <summary>
/// The versioned schema: an ordered list of migrations, each applied once in its own transaction and recorded in
/// <c>schema_version</c>. Nodes starting together take a session-level advisory lock first, so exactly one migrates
/// while the others wait and then find nothing to do. Never edit a released migration; append a new one.
/// </summary>
internal static class PostgresSchema
{
    /// <summary>Migration <c>i</c> brings the schema to version <c>i + 1</c>. Ids compare bytewise (<c>COLLATE "C"</c>), as in SQLite.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE sessions (
            id text COLLATE "C" NOT NULL PRIMARY KEY,
            app_name text COLLATE "C" NOT NULL,
            user_id text COLLATE "C" NOT NULL,
            team_id text COLLATE "C" NULL,
            scope text NOT NULL,
            title text NULL,
            status text NOT NULL,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            last_seq bigint NOT NULL DEFAULT 0,
            starred boolean NOT NULL DEFAULT false,
            metadata bytea NULL,
            input_tokens bigint NOT NULL DEFAULT 0,
            output_tokens bigint NOT NULL DEFAULT 0,
            cost numeric NOT NULL DEFAULT 0,
            agent text NULL,
            model_override text NULL,
            permissions bytea NULL,
            state bytea NULL
        );
        CREATE INDEX sessions_by_user ON sessions (app_name, user_id, updated_at DESC, id DESC);
        CREATE INDEX sessions_by_app ON sessions (app_name, updated_at DESC, id DESC);
        CREATE INDEX sessions_by_owner ON sessions (user_id, updated_at DESC, id DESC);
        CREATE INDEX sessions_by_team ON sessions (team_id, updated_at DESC, id DESC) WHERE team_id IS NOT NULL;
        CREATE INDEX sessions_by_updated ON sessions (updated_at DESC, id DESC);
        CREATE INDEX sessions_starred ON sessions (app_name, user_id, updated_at DESC, id DESC) WHERE starred;

        CREATE TABLE events (
            session_id text COLLATE "C" NOT NULL,
            seq bigint NOT NULL,
            json bytea NOT NULL,
            PRIMARY KEY (session_id, seq)
        );

        CREATE TABLE idempotency (
            session_id text COLLATE "C" NOT NULL,
            key text COLLATE "C" NOT NULL,
            request_hash text NOT NULL,
            first_seq bigint NOT NULL,
            last_seq bigint NOT NULL,
            created_at bigint NOT NULL,
            PRIMARY KEY (session_id, key)
        );

        CREATE TABLE apps (name text COLLATE "C" NOT NULL PRIMARY KEY);

        CREATE TABLE app_state (app_name text COLLATE "C" NOT NULL PRIMARY KEY, state bytea NOT NULL);

        CREATE TABLE user_state (
            app_name text COLLATE "C" NOT NULL,
            user_id text COLLATE "C" NOT NULL,
            state bytea NOT NULL,
            PRIMARY KEY (app_name, user_id)
        );

        -- One sequence (CACHE 1, the default) for every notice. A notice takes its id while its transaction holds the
        -- (app, user) advisory lock, so one user's notices commit in id order: see docs/decisions.md.
        CREATE TABLE feed (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            app_name text COLLATE "C" NOT NULL,
            user_id text COLLATE "C" NOT NULL,
            session_id text COLLATE "C" NOT NULL,
            kind text NOT NULL,
            team_id text COLLATE "C" NULL,
            last_seq bigint NOT NULL,
            status text NOT NULL,
            title text NULL,
            at bigint NOT NULL
        );
        CREATE INDEX feed_by_user ON feed (app_name, user_id, id);

        CREATE TABLE followups (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            session_id text COLLATE "C" NOT NULL,
            key text COLLATE "C" NOT NULL,
            input text NOT NULL,
            taken boolean NOT NULL DEFAULT false,
            created_at bigint NOT NULL,
            UNIQUE (session_id, key)
        );
        CREATE INDEX followups_pending ON followups (session_id, id) WHERE NOT taken;
        """,
        """
        ALTER TABLE sessions
            ADD COLUMN lease_owner text COLLATE "C" NULL,
            ADD COLUMN lease_token bigint NOT NULL DEFAULT 0,
            ADD COLUMN lease_expires_at bigint NULL;
        CREATE INDEX sessions_leased ON sessions (lease_expires_at) WHERE lease_owner IS NOT NULL;
        CREATE INDEX sessions_running_unleased ON sessions (id) WHERE lease_owner IS NULL AND status = 'running';
        """,
    ];

    /// <summary>The version this build migrates to.</summary>
    public static int LatestVersion => Migrations.Length;

    /// <summary>Creates the schema when missing and applies every migration it lacks; returns the resulting version.</summary>
    public static async Task<int> MigrateAsync(NpgsqlDataSource dataSource, string schema, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Session-level, so it spans the per-migration transactions; released explicitly, or by the server when the
        // connection closes, should this node die half-way.
        await ExecuteAsync(connection, "SELECT pg_advisory_lock(hashtext('sessiond:migrate:' || $1))", cancellationToken, schema)
            .ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, $"""
                CREATE SCHEMA IF NOT EXISTS {Quote(schema)};
                CREATE TABLE IF NOT EXISTS {Quote(schema)}.schema_version (version integer NOT NULL PRIMARY KEY, applied_at bigint NOT NULL);
                """, cancellationToken).ConfigureAwait(false);

            while (true)
            {
                var current = await CurrentVersionAsync(connection, schema, cancellationToken).ConfigureAwait(false);
                if (current > LatestVersion)
                {
                    throw new InvalidOperationException(
                        $"The database schema '{schema}' is at version {current}, newer than this build of Sessiond supports ({LatestVersion}). " +
                        "Upgrade Sessiond, or point Sessiond:Storage:Schema at another schema.");
                }

                if (current == LatestVersion)
                {
                    return current;
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, $"SET LOCAL search_path TO {Quote(schema)}", cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, Migrations[current], cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)", cancellationToken,
                    current + 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await ExecuteAsync(connection, "SELECT pg_advisory_unlock(hashtext('sessiond:migrate:' || $1))", CancellationToken.None, schema)
                .ConfigureAwait(false);
        }
    }

    /// <summary>The recorded schema version; 0 for a schema with no migration yet.</summary>
    public static async Task<int> CurrentVersionAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT coalesce(max(version), 0) FROM {Quote(schema)}.schema_version", connection);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    /// <summary>Quotes an identifier; the options already allow only plain lower-case names.</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
