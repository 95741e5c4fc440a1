namespace Sessiond.Storage.Sqlite;

/// <summary>Settings of the embedded SQLite store. Validated when the store is constructed.</summary>
public sealed record SqliteStoreOptions
{
    /// <summary>The name of the database file inside <see cref="DataDirectory"/>.</summary>
    public const string FileName = "sessiond.db";

    /// <summary>The folder that holds the database file and its WAL; created at start when missing.</summary>
    public string DataDirectory { get; init; } = "./data";

    /// <summary>
    /// <c>NORMAL</c> (default: an acknowledged write survives a process kill; the last commits may be lost on power loss)
    /// or <c>FULL</c> (fsync on every commit: survives power loss too, at the cost of commit latency).
    /// </summary>
    public string Synchronous { get; init; } = "NORMAL";

    /// <summary>The most queued writes the single writer commits in one transaction (group commit).</summary>
    public int MaxBatchSize { get; init; } = 256;

    /// <summary>How long a connection waits for a lock held by another process before it fails.</summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The absolute path of the database file.</summary>
    public string DatabasePath => Path.GetFullPath(Path.Combine(DataDirectory, FileName));

    /// <summary>Describes the first setting that is not sound, with how to fix it; null when all are sound.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            return "Sessiond:Sqlite:DataDirectory must name a folder (default ./data).";
        }

        if (!string.Equals(Synchronous, "NORMAL", StringComparison.OrdinalIgnoreCase)
            && !string.Equals(Synchronous, "FULL", StringComparison.OrdinalIgnoreCase))
        {
            return "Sessiond:Sqlite:Synchronous must be NORMAL (default) or FULL.";
        }

        if (MaxBatchSize is < 1 or > 10_000)
        {
            return "Sessiond:Sqlite:MaxBatchSize must be 1-10000 (default 256).";
        }

        if (BusyTimeout < TimeSpan.Zero || BusyTimeout > TimeSpan.FromMinutes(10))
        {
            return "Sessiond:Sqlite:BusyTimeout must be between 0 and 10 minutes (default 00:00:05).";
        }

        return null;
    }
}
