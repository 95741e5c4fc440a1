using System.Net;
using Shouldly;
using static Sessiond.Server.Tests.StreamTestHelpers;

namespace Sessiond.Server.Tests;

/// <summary>
/// Slow readers on a server with a 16-frame subscriber buffer: a reader that stops reading falls behind, is moved to
/// catch-up reads from the store, and still receives every seq exactly once. Also the 1-second pings.
/// </summary>
public sealed class StreamBackpressureTests(TunedStreamsServer server) : IClassFixture<TunedStreamsServer>
{
    /// <summary>A socket receive buffer small enough that a paused reader pushes back on the server at once.</summary>
    private const int SmallReceiveBuffer = 4096;

    /// <summary>Big enough that a few thousand events overflow every buffer between the server and a paused client.</summary>
    private const int EventTextBytes = 2048;

    private static readonly TimeSpan BulkReadTimeout = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http = server.Http;

    [Fact]
    public async Task A_slow_reader_alongside_a_fast_one_receives_every_seq_exactly_once_after_it_resumes()
    {
        const int Total = 4000;
        var id = await CreateSessionAsync(_http, SessiondServer.NewId("app"));
        using var slowHttp = SseClient.CreateHttpClient(server.BaseAddress, SmallReceiveBuffer);
        await using var fast = await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream");
        await using var slow = await SseClient.ConnectAsync(slowHttp, $"/v1/sessions/{id}/stream");
        await fast.ReadUntilAsync(f => f.Event == "status", "the fast reader's status frame after the (empty) replay");
        await slow.ReadUntilAsync(f => f.Event == "status", "the slow reader's status frame after the (empty) replay");

        slow.Pause();
        var fastRead = Task.Run(() => fast.ReadEventsThroughAsync(Total, BulkReadTimeout));
        for (var written = 0; written < Total; written += 100)
        {
            await AppendAsync(_http, id, 100, EventTextBytes);
        }

        (await fastRead).ShouldBeOneThrough(Total, "the fast reader");
        slow.Resume();
        var slowStatuses = 0;
        var slowIds = await slow.ReadEventsThroughAsync(Total, BulkReadTimeout, f => slowStatuses += f.Event == "status" ? 1 : 0);

        slowIds.ShouldBeOneThrough(Total, "the slow reader");
        // A status frame mid-stream is what a catch-up from the store sends: proof the slow path was taken.
        slowStatuses.ShouldBeGreaterThan(0, "the paused reader never fell behind far enough to be moved to catch-up reads, so this test proved nothing");
    }

    [Fact]
    public async Task Several_slow_readers_that_pause_and_resume_during_a_burst_each_receive_every_seq_exactly_once()
    {
        const int Readers = 3;
        const int Total = 3000;
        var id = await CreateSessionAsync(_http, SessiondServer.NewId("app"));
        using var slowHttp = SseClient.CreateHttpClient(server.BaseAddress, SmallReceiveBuffer);
        var readers = new SseClient[Readers];
        for (var r = 0; r < Readers; r++)
        {
            readers[r] = await SseClient.ConnectAsync(slowHttp, $"/v1/sessions/{id}/stream");
        }

        try
        {
            var progress = new WriterProgress();
            var writer = Task.Run(async () =>
            {
                for (var written = 0; written < Total; written += 50)
                {
                    progress.Report(await AppendAsync(_http, id, 50, EventTextBytes));
                }
            });

            // Each reader stops reading every few hundred events, at different points, while the writer appends 300 more.
            var reads = readers.Select((reader, r) => Task.Run(async () =>
            {
                var ids = new List<long>();
                for (var pauseAt = 150L * (r + 1); pauseAt < Total; pauseAt += 700)
                {
                    ids.AddRange(await reader.ReadEventsThroughAsync(pauseAt, BulkReadTimeout));
                    reader.Pause();
                    await progress.WaitForAsync(pauseAt + 300, writer, $"300 appends past seq {pauseAt} while reader {r} is paused", BulkReadTimeout);
                    reader.Resume();
                }

                ids.AddRange(await reader.ReadEventsThroughAsync(Total, BulkReadTimeout));
                return ids;
            })).ToArray();

            await writer;
            var received = await Task.WhenAll(reads);
            for (var r = 0; r < Readers; r++)
            {
                received[r].ShouldBeOneThrough(Total, $"slow reader {r}");
            }
        }
        finally
        {
            foreach (var reader in readers)
            {
                await reader.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_reader_lagging_when_its_session_is_deleted_mid_burst_gets_a_gapless_prefix_then_the_end()
    {
        var id = await CreateSessionAsync(_http, SessiondServer.NewId("app"));
        using var slowHttp = SseClient.CreateHttpClient(server.BaseAddress, SmallReceiveBuffer);
        await using var reader = await SseClient.ConnectAsync(slowHttp, $"/v1/sessions/{id}/stream");
        await reader.ReadUntilAsync(f => f.Event == "status", "the status frame after the (empty) replay");
        reader.Pause();

        var progress = new WriterProgress();
        var writer = Task.Run(async () =>
        {
            // Appends until the session is gone.
            while (true)
            {
                using var response = await _http.PostJsonAsync($"/v1/sessions/{id}/events", AppendBody(50));
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return;
                }

                progress.Report((await response.ShouldBeJsonAsync(HttpStatusCode.Created)).GetProperty("lastSeq").GetInt64());
            }
        });
        await progress.WaitForAsync(5000, writer, "5000 events (10 MB) appended while the reader is paused", BulkReadTimeout);

        // Resume, and delete while the reader is catching up and the writer still appends.
        reader.Resume();
        var statuses = 0;
        var ids = await reader.ReadEventsThroughAsync(200, BulkReadTimeout, f => statuses += f.Event == "status" ? 1 : 0);
        (await _http.DeleteAsync($"/v1/sessions/{id}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await writer.WaitAsync(BulkReadTimeout);

        var rest = await reader.ReadUntilAsync(f => f.Event == "end", "event: end after the delete", BulkReadTimeout);
        ids.AddRange(rest.Where(f => f.Event == "event").Select(f => f.Seq));
        ids.ShouldBeOneThrough(ids.Count, "the lagging reader of a deleted session (a prefix of the session's seqs)");
        rest[^1].Json.GetProperty("reason").GetString().ShouldBe("deleted");
        await reader.WaitForCloseAsync("the stream must close after event: end");
        (statuses + rest.Count(f => f.Event == "status")).ShouldBeGreaterThan(0, "the reader was never moved to catch-up reads, so this test proved nothing");
    }

    [Fact]
    public async Task Pings_arrive_as_comments_on_session_streams_and_on_feeds()
    {
        var app = SessiondServer.NewId("app");
        var id = await CreateSessionAsync(_http, app, "alice");
        await using var stream = await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream");
        await using var feed = await SseClient.ConnectAsync(_http, $"/v1/stream?appName={app}&userId=bob");

        var timeout = TimeSpan.FromSeconds(10);
        var ping = (await stream.ReadUntilAsync(f => f.IsComment, "a ': ping' comment on the session stream (PingIntervalSeconds=1)", timeout))[^1];
        ping.Data.ShouldBe("ping");
        ping = (await feed.ReadUntilAsync(f => f.IsComment, "a ': ping' comment on the feed (PingIntervalSeconds=1)", timeout))[^1];
        ping.Data.ShouldBe("ping");

        // A ping is not an event: it moves no cursor.
        stream.LastEventId.ShouldBeNull();
        feed.LastEventId.ShouldBeNull();
    }

    private static string AppendBody(int count)
    {
        var one = $$$"""{"author":"user","content":{"role":"user","parts":[{"text":"{{{new string('x', EventTextBytes)}}}"}]}}""";
        return $"{{\"events\":[{string.Join(',', Enumerable.Repeat(one, count))}]}}";
    }
}
