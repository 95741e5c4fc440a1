using Microsoft.Data.Sqlite;

namespace Sessiond.Storage.Sqlite.Schema;

/// <summary>
/// The versioned schema: an ordered list of migrations, each applied once in its own transaction and recorded in
/// <c>schema_version</c>. Never edit a released migration; append a new one.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>Migration <c>i</c> brings the schema to version <c>i + 1</c>.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE sessions (
            id TEXT NOT NULL PRIMARY KEY,
            app_name TEXT NOT NULL,
            user_id TEXT NOT NULL,
            team_id TEXT NULL,
            scope TEXT NOT NULL,
            title TEXT NULL,
            status TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            last_seq INTEGER NOT NULL DEFAULT 0,
            starred INTEGER NOT NULL DEFAULT 0,
            metadata BLOB NULL,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cost TEXT NOT NULL DEFAULT '0',
            agent TEXT NULL,
            model_override TEXT NULL,
            permissions BLOB NULL,
            state BLOB NULL
        );
        CREATE INDEX sessions_by_user ON sessions (app_name, user_id, updated_at DESC, id DESC);
        CREATE INDEX sessions_by_app ON sessions (app_name, updated_at DESC, id DESC);
        CREATE INDEX sessions_by_owner ON sessions (user_id, updated_at DESC, id DESC);
        CREATE INDEX sessions_by_team ON sessions (team_id, updated_at DESC, id DESC) WHERE team_id IS NOT NULL;
        CREATE INDEX sessions_by_updated ON sessions (updated_at DESC, id DESC);
        CREATE INDEX sessions_starred ON sessions (app_name, user_id, updated_at DESC, id DESC) WHERE starred = 1;

        CREATE TABLE events (
            session_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            json BLOB NOT NULL,
            PRIMARY KEY (session_id, seq)
        );

        CREATE TABLE idempotency (
            session_id TEXT NOT NULL,
            key TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            first_seq INTEGER NOT NULL,
            last_seq INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (session_id, key)
        ) WITHOUT ROWID;

        CREATE TABLE apps (name TEXT NOT NULL PRIMARY KEY) WITHOUT ROWID;

        CREATE TABLE app_state (app_name TEXT NOT NULL PRIMARY KEY, state BLOB NOT NULL);

        CREATE TABLE user_state (
            app_name TEXT NOT NULL,
            user_id TEXT NOT NULL,
            state BLOB NOT NULL,
            PRIMARY KEY (app_name, user_id)
        );
        """,
        """
        CREATE TABLE feed (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            app_name TEXT NOT NULL,
            user_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            team_id TEXT NULL,
            last_seq INTEGER NOT NULL,
            status TEXT NOT NULL,
            title TEXT NULL,
            at INTEGER NOT NULL
        );
        CREATE INDEX feed_by_user ON feed (app_name, user_id, id);
        """,
        """
        CREATE TABLE followups (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL,
            key TEXT NOT NULL,
            input BLOB NOT NULL,
            taken INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            UNIQUE (session_id, key)
        );
        CREATE INDEX followups_pending ON followups (session_id, id) WHERE taken = 0;
        CREATE TRIGGER sessions_delete_followups AFTER DELETE ON sessions
        BEGIN
            DELETE FROM followups WHERE session_id = old.id;
        END;
        """,
        """
        ALTER TABLE sessions ADD COLUMN lease_owner TEXT NULL;
        ALTER TABLE sessions ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sessions ADD COLUMN lease_expires_at INTEGER NULL;
        CREATE INDEX sessions_leased ON sessions (lease_expires_at) WHERE lease_owner IS NOT NULL;
        CREATE INDEX sessions_running_unleased ON sessions (id) WHERE lease_owner IS NULL AND status = 'running';
        """,
    ];

    /// <summary>The version this build migrates to.</summary>
    public static int LatestVersion => Migrations.Length;

    /// <summary>Applies every migration the database lacks and returns the resulting version.</summary>
    public static int Migrate(SqliteConnection connection)
    {
        Execute(connection, """
            CREATE TABLE IF NOT EXISTS schema_version (
                version INTEGER NOT NULL PRIMARY KEY,
                applied_at INTEGER NOT NULL
            )
            """);

        while (true)
        {
            // Each step re-reads the version inside its write transaction, so two processes starting at once
            // on the same file cannot both apply a migration.
            using var transaction = connection.BeginTransaction(deferred: false);
            var current = CurrentVersion(connection, transaction);
            if (current > LatestVersion)
            {
                throw new InvalidOperationException(
                    $"The database schema is at version {current}, newer than this build of Sessiond supports ({LatestVersion}). " +
                    "Upgrade Sessiond, or point Sessiond:Sqlite:DataDirectory at another folder.");
            }

            if (current == LatestVersion)
            {
                transaction.Commit();
                return current;
            }

            Execute(connection, Migrations[current], transaction);
            using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES ($version, $now)";
            record.Parameters.AddWithValue("$version", current + 1);
            record.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            record.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    /// <summary>The recorded schema version; 0 for an empty database.</summary>
    public static int CurrentVersion(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT coalesce(max(version), 0) FROM schema_version";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
