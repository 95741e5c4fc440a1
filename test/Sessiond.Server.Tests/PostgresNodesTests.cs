using System.Net;
using Npgsql;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>
/// Two real server processes on one PostgreSQL database, as two nodes behind a load balancer: what one node writes the
/// other reads, and a stream on one node carries what is appended on the other, in order, without gap or duplicate.
/// Needs <c>SESSIOND_TEST_POSTGRES</c> (scripts/test.sh sets it); skips without it locally, fails without it in CI.
/// </summary>
public sealed class PostgresNodesTests : IAsyncLifetime
{
    private const string Variable = "SESSIOND_TEST_POSTGRES";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _schema = "t_" + Guid.NewGuid().ToString("N")[..20];
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "sessiond-pg-nodes-" + Guid.NewGuid().ToString("N"));
    private ServerProcess? _nodeA;
    private ServerProcess? _nodeB;

    public async ValueTask InitializeAsync()
    {
        var connectionString = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return;
        }

        string[] postgres =
        [
            "--Sessiond:Storage:Provider=postgres",
            $"--Sessiond:Storage:ConnectionString={new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 16 }}",
            $"--Sessiond:Storage:Schema={_schema}",
        ];
        // One after the other: the second finds the schema migrated by the first.
        _nodeA = await ServerProcess.StartAsync(Path.Combine(_dataDir, "a"), StartTimeout, postgres);
        _nodeB = await ServerProcess.StartAsync(Path.Combine(_dataDir, "b"), StartTimeout, postgres);
    }

    [Fact]
    public async Task A_session_created_on_one_node_is_read_and_streamed_live_on_the_other()
    {
        RequirePostgres();
        using var onA = new HttpClient { BaseAddress = _nodeA!.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var onB = new HttpClient { BaseAddress = _nodeB!.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        var sessionId = await StreamTestHelpers.CreateSessionAsync(onA, "nodes", "u1");
        using (var read = await onB.GetAsync($"/v1/sessions/{sessionId}"))
        {
            (await read.ShouldBeJsonAsync(HttpStatusCode.OK)).GetProperty("appName").GetString().ShouldBe("nodes");
        }

        await StreamTestHelpers.AppendAsync(onA, sessionId, 3);
        await using var stream = await SseClient.ConnectAsync(onB, $"/v1/sessions/{sessionId}/stream");

        // Appends on node A, in many small commits, while node B's subscriber is live: node B hears each commit's hint
        // and reads the events from the table.
        const int appends = 40;
        var lastSeq = 3L;
        for (var i = 0; i < appends; i++)
        {
            lastSeq = await StreamTestHelpers.AppendAsync(onA, sessionId, 1 + (i % 3));
        }

        var seen = await stream.ReadEventsThroughAsync(lastSeq);
        seen.ShouldBe(Enumerable.Range(1, (int)lastSeq).Select(i => (long)i), "node B's stream, replay then live, without gap or duplicate");

        // And a subscriber on node A hears what is appended on node B.
        await using var streamOnA = await SseClient.ConnectAsync(onA, $"/v1/sessions/{sessionId}/stream", lastEventId: lastSeq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var fromB = await StreamTestHelpers.AppendAsync(onB, sessionId, 2);
        (await streamOnA.ReadEventsThroughAsync(fromB)).ShouldBe([lastSeq + 1, lastSeq + 2]);
        (await stream.ReadEventsThroughAsync(fromB)).ShouldBe([lastSeq + 1, lastSeq + 2]);
    }

    private void RequirePostgres()
    {
        if (_nodeA is not null)
        {
            return;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{Variable} is not set, so the two-node test cannot run. Run ./scripts/test.sh, which starts PostgreSQL and sets it.");
        }

        Assert.Skip($"{Variable} is not set; ./scripts/test.sh starts a throwaway PostgreSQL and sets it.");
    }

    public async ValueTask DisposeAsync()
    {
        if (_nodeB is not null)
        {
            await _nodeB.DisposeAsync();
        }

        if (_nodeA is not null)
        {
            await _nodeA.DisposeAsync();
        }

        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } connectionString)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{_schema}\" CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }

        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }
}
