using Npgsql;

namespace Sessiond.Storage.Postgres.Tests;

/// <summary>
/// The PostgreSQL the tests run against, named by <c>SESSIOND_TEST_POSTGRES</c> (scripts/test.sh starts a throwaway
/// cluster and sets it). Without it a test skips locally, but fails in CI (<c>CI=true</c>), where skipping would hide
/// that the provider went untested.
/// </summary>
public static class TestDatabase
{
    public const string Variable = "SESSIOND_TEST_POSTGRES";

    /// <summary>The connection string, with a pool small enough for many test classes to share one server.</summary>
    public static string? ConnectionString
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(Variable);
            if (string.IsNullOrWhiteSpace(configured))
            {
                return null;
            }

            return new NpgsqlConnectionStringBuilder(configured) { MaxPoolSize = 24 }.ConnectionString;
        }
    }

    /// <summary>The connection string; skips the test when unset outside CI and fails it in CI.</summary>
    public static string Require()
    {
        if (ConnectionString is { } connectionString)
        {
            return connectionString;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"{Variable} is not set, so the PostgreSQL provider cannot be tested. Run ./scripts/test.sh, which starts PostgreSQL and sets it.");
        }

        Assert.Skip($"{Variable} is not set; ./scripts/test.sh starts a throwaway PostgreSQL and sets it.");
        return null!;
    }

    /// <summary>A fresh schema name, unique to one test class or store.</summary>
    public static string NewSchema() => "t_" + Guid.NewGuid().ToString("N")[..20];

    /// <summary>Drops schemas the tests made.</summary>
    public static async Task DropSchemasAsync(IEnumerable<string> schemas)
    {
        if (ConnectionString is not { } connectionString)
        {
            return;
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var schema in schemas)
        {
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
