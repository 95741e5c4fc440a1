using Npgsql;

namespace Sessiond.Server.Tests;

/// <summary>
/// Two real server processes, node A and node B, on one PostgreSQL database in a schema of their own, which disposing
/// drops. Needs <c>SESSIOND_TEST_POSTGRES</c> (scripts/test.sh sets it): <see cref="StartAsync"/> returns null without
/// it, and <see cref="Require"/> then skips the test locally and fails it in CI.
/// </summary>
public sealed class PostgresNodePair : IAsyncDisposable
{
    private const string Variable = "SESSIOND_TEST_POSTGRES";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _connectionString;
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "sessiond-pg-nodes-" + Guid.NewGuid().ToString("N"));

    private PostgresNodePair(string connectionString)
    {
        _connectionString = connectionString;
    }

    /// <summary>The database both nodes use, for tests that reach into it.</summary>
    public string ConnectionString => _connectionString;

    /// <summary>The schema both nodes use.</summary>
    public string Schema { get; } = "t_" + Guid.NewGuid().ToString("N")[..20];

    public ServerProcess NodeA { get; private set; } = null!;

    public ServerProcess NodeB { get; private set; } = null!;

    /// <summary>
    /// Starts node A, then node B (which finds the schema A migrated), each with the store arguments and
    /// <paramref name="extraArguments"/> for its name (<c>node-a</c>, <c>node-b</c>); null when no PostgreSQL is configured.
    /// </summary>
    public static async Task<PostgresNodePair?> StartAsync(Func<string, IReadOnlyList<string>>? extraArguments = null)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } connectionString)
        {
            return null;
        }

        var pair = new PostgresNodePair(connectionString);
        try
        {
            pair.NodeA = await ServerProcess.StartAsync(Path.Combine(pair._dataDir, "a"), StartTimeout, pair.Arguments("node-a", extraArguments));
            pair.NodeB = await ServerProcess.StartAsync(Path.Combine(pair._dataDir, "b"), StartTimeout, pair.Arguments("node-b", extraArguments));
            return pair;
        }
        catch
        {
            await pair.DisposeAsync();
            throw;
        }
    }

    /// <summary>Returns the pair, or skips the test (locally) or fails it (in CI) when PostgreSQL is not configured.</summary>
    public static PostgresNodePair Require(PostgresNodePair? pair)
    {
        if (pair is not null)
        {
            return pair;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{Variable} is not set, so the two-node test cannot run. Run ./scripts/test.sh, which starts PostgreSQL and sets it.");
        }

        Assert.Skip($"{Variable} is not set; ./scripts/test.sh starts a throwaway PostgreSQL and sets it.");
        return null!;
    }

    /// <summary>A client of <paramref name="node"/>.</summary>
    public static HttpClient ClientOf(ServerProcess node) => new() { BaseAddress = node.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask DisposeAsync()
    {
        if (NodeB is not null)
        {
            await NodeB.DisposeAsync();
        }

        if (NodeA is not null)
        {
            await NodeA.DisposeAsync();
        }

        await using (var connection = new NpgsqlConnection(_connectionString))
        {
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{Schema}\" CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }

        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    private List<string> Arguments(string node, Func<string, IReadOnlyList<string>>? extraArguments) =>
    [
        "--Sessiond:Storage:Provider=postgres",
        $"--Sessiond:Storage:ConnectionString={new NpgsqlConnectionStringBuilder(_connectionString) { MaxPoolSize = 16 }}",
        $"--Sessiond:Storage:Schema={Schema}",
        .. extraArguments?.Invoke(node) ?? [],
    ];
}
