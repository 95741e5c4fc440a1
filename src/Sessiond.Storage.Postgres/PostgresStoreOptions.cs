using System.Text;
using System.Text.RegularExpressions;

namespace Sessiond.Storage.Postgres;

/// <summary>Settings of the PostgreSQL store. Validated when the store is constructed; the connection string is never printed.</summary>
public sealed partial record PostgresStoreOptions
{
    /// <summary>An Npgsql connection string; its pool settings (<c>Maximum Pool Size</c>) size the node's connections.</summary>
    public string ConnectionString { get; init; } = "";

    /// <summary>The schema that holds the tables; created at start when missing. Nodes that share data share it.</summary>
    public string Schema { get; init; } = "public";

    /// <summary>
    /// How long a write waits, after its commit, for its own NOTIFY to come back on the node's LISTEN connection (which is
    /// how the local listener hears every commit of every node in one order). Past it the write answers anyway.
    /// </summary>
    public TimeSpan DeliveryTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest pause between attempts to re-open a dropped LISTEN connection.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The NOTIFY channel of the schema: nodes on one database but different schemas do not hear each other.</summary>
    public string Channel => $"sessiond_{Schema}";

    /// <summary>Describes the first setting that is not sound, with how to fix it; null when all are sound.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            return "Sessiond:Storage:ConnectionString must be set for the postgres provider, " +
                "for example Host=127.0.0.1;Port=5432;Username=sessiond;Password=...;Database=sessiond.";
        }

        if (!SchemaName().IsMatch(Schema))
        {
            return "Sessiond:Storage:Schema must be 1-48 lower-case letters, digits or underscores, starting with a letter or underscore (default public).";
        }

        if (DeliveryTimeout <= TimeSpan.Zero || DeliveryTimeout > TimeSpan.FromMinutes(1))
        {
            return "PostgresStoreOptions.DeliveryTimeout must be above 0 and at most 1 minute (default 00:00:05).";
        }

        if (MaxReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay > TimeSpan.FromMinutes(5))
        {
            return "PostgresStoreOptions.MaxReconnectDelay must be above 0 and at most 5 minutes (default 00:00:05).";
        }

        return null;
    }

    // The connection string may hold a password, so a logged options object must not show it.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("ConnectionString = ***, Schema = ").Append(Schema)
            .Append(", DeliveryTimeout = ").Append(DeliveryTimeout)
            .Append(", MaxReconnectDelay = ").Append(MaxReconnectDelay);
        return true;
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,47}$")]
    private static partial Regex SchemaName();
}
