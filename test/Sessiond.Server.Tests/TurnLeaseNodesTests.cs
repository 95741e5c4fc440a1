using System.Net;
using System.Text.Json;
using Npgsql;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>
/// One turn at a time across two real server processes on one PostgreSQL database: racing starts on both nodes let one
/// through, and when the node running a turn is killed, the other repairs the session once the turn's lease lapses.
/// Needs <c>SESSIOND_TEST_POSTGRES</c> (scripts/test.sh sets it); skips without it locally, fails without it in CI.
/// </summary>
public sealed class TurnLeaseNodesTests : IAsyncLifetime
{
    private const int LeaseSeconds = 3;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    // The lease lapses at most LeaseSeconds after the kill, a sweep comes within a third of that, and 2 s are for slack.
    private static readonly TimeSpan TakeoverBound = TimeSpan.FromSeconds(LeaseSeconds + LeaseSeconds / 3.0 + 2);

    private readonly string _agentsDir = RuntimeServer.WriteAgents();
    private PostgresNodePair? _nodes;

    public async ValueTask InitializeAsync() => _nodes = await PostgresNodePair.StartAsync(node =>
    [
        "--agents-dir", _agentsDir,
        $"--Sessiond:Runtime:LeaseSeconds={LeaseSeconds}",
        $"--Sessiond:Runtime:NodeId={node}",
    ]);

    public async ValueTask DisposeAsync()
    {
        if (_nodes is not null)
        {
            await _nodes.DisposeAsync();
        }

        Directory.Delete(_agentsDir, recursive: true);
    }

    [Fact]
    public async Task Turns_started_at_once_on_two_nodes_let_exactly_one_through()
    {
        var nodes = PostgresNodePair.Require(_nodes);
        using var onA = PostgresNodePair.ClientOf(nodes.NodeA);
        using var onB = PostgresNodePair.ClientOf(nodes.NodeB);
        var id = await StreamTestHelpers.CreateSessionAsync(onA, "slow", "u1");
        await using var stream = await SseClient.ConnectAsync(onB, $"/v1/sessions/{id}/stream");

        var answers = await Task.WhenAll(
            onA.PostJsonAsync($"/v1/sessions/{id}/turns", """{"input":"from a"}"""),
            onB.PostJsonAsync($"/v1/sessions/{id}/turns", """{"input":"from b"}"""));

        answers.Select(a => a.StatusCode).Order().ShouldBe([HttpStatusCode.Accepted, HttpStatusCode.Conflict]);
        await answers.Single(a => a.StatusCode == HttpStatusCode.Conflict).ShouldBeProblemAsync(HttpStatusCode.Conflict, "session_busy");
        await stream.ReadUntilAsync(f => f.Event == "status" && f.Json.GetProperty("status").GetString() == "running",
            "the winning turn's running status, heard on node B");
        await stream.ReadUntilAsync(f => f.Event == "status" && f.Json.GetProperty("status").GetString() == "idle",
            "the winning turn to end with status idle, heard on node B");
        var events = await EventsAsync(onB, id);
        events.Count(e => e.GetProperty("author").GetString() == "user").ShouldBe(1, "only the winner's input is recorded");
        events[^1].GetProperty("turnComplete").GetBoolean().ShouldBeTrue();
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    public async Task When_the_node_running_a_turn_is_killed_the_other_repairs_the_session_within_the_lease()
    {
        var nodes = PostgresNodePair.Require(_nodes);
        using var onA = PostgresNodePair.ClientOf(nodes.NodeA);
        using var onB = PostgresNodePair.ClientOf(nodes.NodeB);
        var id = await StreamTestHelpers.CreateSessionAsync(onA, "slow", "u1");
        await using var streamOnB = await SseClient.ConnectAsync(onB, $"/v1/sessions/{id}/stream");
        await using (var streamOnA = await SseClient.ConnectAsync(onA, $"/v1/sessions/{id}/stream"))
        {
            (await onA.PostJsonAsync($"/v1/sessions/{id}/turns", """{"input":"long"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
            await streamOnA.ReadUntilAsync(f => f.Event == "delta", "the first delta of the slow turn on node A");
            await nodes.NodeA.KillAsync(StartTimeout);
        }

        await streamOnB.ReadUntilAsync(f => f.Event == "status" && f.Json.GetProperty("status").GetString() == "running",
            "the running status of node A's turn, heard on node B");
        var repair = await streamOnB.ReadUntilAsync(f => f.Event == "status" && f.Json.GetProperty("status").GetString() == "idle",
            $"node B to repair the session (an interrupted event, then idle) within {TakeoverBound.TotalSeconds:0.#} s of the kill",
            TakeoverBound);

        repair.Any(f => f.Event == "event" && f.Data.Contains("\"interrupted\":true", StringComparison.Ordinal))
            .ShouldBeTrue("node B's stream carries the interrupted event before the idle status");
        var events = await EventsAsync(onB, id);
        events[^1].GetProperty("interrupted").GetBoolean().ShouldBeTrue();
        events.Select(e => e.GetProperty("seq").GetInt64()).ShouldBe(Enumerable.Range(1, events.Count).Select(i => (long)i));
        using var session = await onB.GetAsync($"/v1/sessions/{id}");
        (await session.ShouldBeJsonAsync(HttpStatusCode.OK)).GetProperty("status").GetString().ShouldBe("idle");

        // The repaired session takes a new turn on the surviving node.
        using var next = await onB.PostJsonAsync($"/v1/sessions/{id}/turns", """{"input":"again"}""");
        next.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await streamOnB.ReadUntilAsync(f => f.Event == "status" && f.Json.GetProperty("status").GetString() == "idle",
            "the new turn on node B to end");
    }

    [Fact]
    public async Task A_node_whose_lease_was_taken_over_writes_nothing_more_and_stops_its_turn()
    {
        var nodes = PostgresNodePair.Require(_nodes);
        using var onA = PostgresNodePair.ClientOf(nodes.NodeA);
        using var onB = PostgresNodePair.ClientOf(nodes.NodeB);
        var id = await StreamTestHelpers.CreateSessionAsync(onA, "slow", "u1");
        await using var streamOnB = await SseClient.ConnectAsync(onB, $"/v1/sessions/{id}/stream");
        await using (var streamOnA = await SseClient.ConnectAsync(onA, $"/v1/sessions/{id}/stream"))
        {
            (await onA.PostJsonAsync($"/v1/sessions/{id}/turns", """{"input":"long"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
            await streamOnA.ReadUntilAsync(f => f.Event == "delta", "the first delta of the slow turn on node A");

            // As if node A had stalled past its lease: a node that no longer exists took it over, and it has lapsed too.
            await using var connection = new NpgsqlConnection(nodes.ConnectionString);
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var steal = new NpgsqlCommand(
                $"UPDATE \"{nodes.Schema}\".sessions SET lease_owner = 'gone', lease_token = lease_token + 1, lease_expires_at = 0 WHERE id = $1",
                connection) { Parameters = { new NpgsqlParameter { Value = id } } };
            (await steal.ExecuteNonQueryAsync(TestContext.Current.CancellationToken)).ShouldBe(1);
        }

        await streamOnB.ReadUntilAsync(f => f.Event == "status" && f.Json.GetProperty("status").GetString() == "running",
            "the running status of node A's turn, heard on node B");
        await streamOnB.ReadUntilAsync(f => f.Event == "status" && f.Json.GetProperty("status").GetString() == "idle",
            $"node B to repair the session within {TakeoverBound.TotalSeconds:0.#} s", TakeoverBound);

        // Node A's turn goes on for about a second more; its writes (the model step, then its own interruption) are
        // refused, so the session holds the input and the one interruption node B recorded. A new turn proves node A
        // left the session alone.
        using var next = await onA.PostJsonAsync($"/v1/sessions/{id}/turns", """{"input":"again"}""");
        next.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await streamOnB.ReadUntilAsync(f => f.Event == "status" && f.Json.GetProperty("status").GetString() == "idle",
            "the new turn to end");
        var events = await EventsAsync(onB, id);
        var firstTurn = events.TakeWhile(e => !e.GetRawText().Contains("\"again\"", StringComparison.Ordinal)).ToList();
        firstTurn.Count.ShouldBe(2, string.Join("\n", firstTurn.Select(e => e.GetRawText())));
        firstTurn[1].GetProperty("interrupted").GetBoolean().ShouldBeTrue();
        events[^1].GetProperty("turnComplete").GetBoolean().ShouldBeTrue();
    }

    private static async Task<List<JsonElement>> EventsAsync(HttpClient http, string id)
    {
        using var response = await http.GetAsync($"/v1/sessions/{id}/events?limit=1000", TestContext.Current.CancellationToken);
        var body = await response.ShouldBeJsonAsync(HttpStatusCode.OK);
        return [.. body.GetProperty("events").EnumerateArray()];
    }
}
