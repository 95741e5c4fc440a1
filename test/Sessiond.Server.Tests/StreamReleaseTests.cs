using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Sessiond.Server.Streams;
using Shouldly;
using static Sessiond.Server.Tests.StreamTestHelpers;

namespace Sessiond.Server.Tests;

/// <summary>
/// Hanging up releases everything a stream holds, whatever the stream was doing: <see cref="StreamHub.SubscriberCount"/>
/// goes back down. This class has a server of its own, so no other test's streams move the count.
/// </summary>
public sealed class StreamReleaseTests(SessiondServer server) : IClassFixture<SessiondServer>
{
    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http = server.Http;
    private readonly StreamHub _hub = server.Services.GetRequiredService<StreamHub>();

    [Fact]
    public async Task Hanging_up_a_tailing_stream_or_feed_releases_its_subscription()
    {
        var app = SessiondServer.NewId("app");
        var id = await CreateSessionAsync(_http, app, "alice");
        var before = _hub.SubscriberCount;

        // The subscription is taken before the answer's headers are sent, so it is counted once the client has them.
        var first = await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream");
        var second = await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream?after=0");
        var feed = await SseClient.ConnectAsync(_http, $"/v1/stream?appName={app}&userId=alice");
        _hub.SubscriberCount.ShouldBe(before + 3);
        await first.ReadUntilAsync(f => f.Event == "status", "the status frame after the replay");

        await first.DisposeAsync();
        await WaitForSubscriberCountAsync(before + 2, "the first session stream hung up while tailing");
        await second.DisposeAsync();
        await feed.DisposeAsync();
        await WaitForSubscriberCountAsync(before, "the second session stream and the feed hung up");
    }

    [Fact]
    public async Task Hanging_up_a_paused_client_mid_replay_and_behind_the_live_tail_releases_its_subscription()
    {
        var id = await CreateSessionAsync(_http, SessiondServer.NewId("app"));
        for (var written = 0; written < 3000; written += 500)
        {
            await AppendAsync(_http, id, 500, textBytes: 2048);
        }

        var before = _hub.SubscriberCount;
        using var slowHttp = SseClient.CreateHttpClient(server.BaseAddress, receiveBufferBytes: 4096);
        var client = await SseClient.ConnectAsync(slowHttp, $"/v1/sessions/{id}/stream");
        await client.NextAsync("the first replayed frame");
        client.Pause();

        // The server is now stuck writing the replay to a client that does not read; live events pile up behind it.
        await AppendAsync(_http, id, 1000);
        _hub.SubscriberCount.ShouldBe(before + 1);
        await client.DisposeAsync();
        await WaitForSubscriberCountAsync(before, "a paused client hung up mid-replay with live events queued");
    }

    [Fact]
    public async Task Refused_streams_and_streams_ended_by_a_delete_leave_no_subscription_behind()
    {
        var app = SessiondServer.NewId("app");
        var id = await CreateSessionAsync(_http, app, "alice");
        var before = _hub.SubscriberCount;

        using (var missing = await SseClient.SendAsync(_http, $"/v1/sessions/{SessiondServer.NewId("missing")}/stream"))
        {
            await missing.ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        }

        using (var badCursor = await SseClient.SendAsync(_http, $"/v1/sessions/{id}/stream", lastEventId: "-1"))
        {
            await badCursor.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        }

        await WaitForSubscriberCountAsync(before, "streams refused with 404 and 400");

        await using var client = await SseClient.ConnectAsync(_http, $"/v1/sessions/{id}/stream");
        await client.ReadUntilAsync(f => f.Event == "status", "the status frame after the replay");
        (await _http.DeleteAsync($"/v1/sessions/{id}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await client.ReadUntilAsync(f => f.Event == "end", "event: end after the delete");
        await client.WaitForCloseAsync("the stream must close after event: end");
        await WaitForSubscriberCountAsync(before, "the server ended the stream of a deleted session");
    }

    /// <summary>Polls the hub until its count is <paramref name="expected"/>, within a bounded deadline.</summary>
    private async Task WaitForSubscriberCountAsync(int expected, string after)
    {
        var deadline = DateTime.UtcNow + ReleaseTimeout;
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        while (_hub.SubscriberCount != expected)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"Timed out after {ReleaseTimeout.TotalSeconds:0} s waiting for StreamHub.SubscriberCount to return to {expected} "
                    + $"once {after}; it is {_hub.SubscriberCount}.");
            }

            await poll.WaitForNextTickAsync();
        }
    }
}
