using Sessiond.Core.Validation;

namespace Sessiond.Server.Hosting;

/// <summary>The <c>Sessiond</c> configuration section.</summary>
public sealed record SessiondOptions
{
    public const string Section = "Sessiond";

    /// <summary>Binds the section (defaults where it is silent).</summary>
    public static SessiondOptions From(IConfiguration configuration) =>
        configuration.GetSection(Section).Get<SessiondOptions>() ?? new SessiondOptions();

    public StorageOptions Storage { get; init; } = new();

    public SessiondLimits Limits { get; init; } = new();

    public Streams.StreamOptions Streams { get; init; } = new();

    public Auth.AuthOptions Auth { get; init; } = new();

    public Auth.RateLimitOptions RateLimit { get; init; } = new();

    public Auth.CorsOptions Cors { get; init; } = new();

    public AgentsOptions Agents { get; init; } = new();

    public RuntimeOptions Runtime { get; init; } = new();
}

/// <summary>The <c>Sessiond:Storage</c> section: which provider, and where it keeps its data.</summary>
public sealed record StorageOptions
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    /// <summary>True when <see cref="Provider"/> names PostgreSQL.</summary>
    public bool IsPostgres => string.Equals(Provider, Postgres, StringComparison.OrdinalIgnoreCase);

    /// <summary><c>sqlite</c> (the default) or <c>postgres</c>.</summary>
    public string Provider { get; init; } = "sqlite";

    /// <summary>The Npgsql connection string for <c>postgres</c>; it may hold a password, so it is never printed.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>The PostgreSQL schema that holds the tables (default <c>public</c>); nodes that share sessions share it.</summary>
    public string Schema { get; init; } = "public";

    /// <summary>The SQLite data directory; <c>--data-dir</c> and <c>SESSIOND_DATA_DIR</c> set it too.</summary>
    public string DataDir { get; init; } = "./data";

    /// <summary>SQLite <c>synchronous</c>: <c>NORMAL</c> survives a process crash; <c>FULL</c> also survives power loss.</summary>
    public string Synchronous { get; init; } = "NORMAL";

    /// <summary>The PostgreSQL store's options.</summary>
    public Storage.Postgres.PostgresStoreOptions ToPostgres() => new() { ConnectionString = ConnectionString ?? "", Schema = Schema };

    // The connection string may hold a password.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Provider = ").Append(Provider).Append(", DataDir = ").Append(DataDir)
            .Append(", Synchronous = ").Append(Synchronous)
            .Append(", ConnectionString = ").Append(ConnectionString is null ? "null" : "***")
            .Append(", Schema = ").Append(Schema);
        return true;
    }
}

/// <summary>Where agent files live: <c>Sessiond:Agents</c>.</summary>
public sealed record AgentsOptions
{
    /// <summary>The folder of <c>&lt;app&gt;.yaml</c> files; <c>--agents-dir</c> sets it.</summary>
    public string Directory { get; init; } = "./agents";
}

/// <summary>How turns run across nodes: <c>Sessiond:Runtime</c>.</summary>
public sealed record RuntimeOptions
{
    /// <summary>
    /// How long a turn's lease lasts unless renewed (renewed every third of it). A dead node's turn is repaired by another
    /// node within about <c>LeaseSeconds * 4 / 3</c>.
    /// </summary>
    public int LeaseSeconds { get; init; } = 15;

    /// <summary>This node's name in turn leases; nodes sharing one database need distinct ones. Default: the host name.</summary>
    public string? NodeId { get; init; }

    /// <summary>A problem with these options, said so that it can be fixed; null when there is none.</summary>
    public string? Validate() =>
        LeaseSeconds is < 1 or > 3600
            ? $"Sessiond:Runtime:LeaseSeconds is {LeaseSeconds}; use 1 to 3600 seconds (15 is the default)."
            : NodeId is { } id && (string.IsNullOrWhiteSpace(id) || id.Length > 200)
                ? "Sessiond:Runtime:NodeId must be 1 to 200 characters, or unset to use the host name."
                : null;
}
