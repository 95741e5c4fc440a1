using System.Net;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>
/// Two real server processes on one PostgreSQL database, as two nodes behind a load balancer: what one node writes the
/// other reads, and a stream on one node carries what is appended on the other, in order, without gap or duplicate.
/// Needs <c>SESSIOND_TEST_POSTGRES</c> (scripts/test.sh sets it); skips without it locally, fails without it in CI.
/// </summary>
public sealed class PostgresNodesTests : IAsyncLifetime
{
    private PostgresNodePair? _nodes;

    public async ValueTask InitializeAsync() => _nodes = await PostgresNodePair.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_nodes is not null)
        {
            await _nodes.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_session_created_on_one_node_is_read_and_streamed_live_on_the_other()
    {
        var nodes = PostgresNodePair.Require(_nodes);
        using var onA = PostgresNodePair.ClientOf(nodes.NodeA);
        using var onB = PostgresNodePair.ClientOf(nodes.NodeB);

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
}
