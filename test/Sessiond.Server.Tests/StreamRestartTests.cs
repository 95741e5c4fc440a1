using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Sessiond.Server.Hosting;
using Shouldly;
using static Sessiond.Server.Tests.StreamTestHelpers;

namespace Sessiond.Server.Tests;

/// <summary>
/// Streams across server restarts on the same data directory: a client resumes with <c>Last-Event-ID</c> on the new
/// server (its port may differ) and still receives every seq exactly once, whether the server was killed with SIGKILL
/// mid-burst (a separate process, <see cref="ServerProcess"/>) or stopped gracefully (an in-process host).
/// </summary>
public sealed class StreamRestartTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "sessiond-stream-restart-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_client_resumes_with_Last_Event_ID_across_SIGKILLs_of_the_server_process_during_bursts()
    {
        const int Kills = 3;
        const int EventsPerConnection = 300;
        await using var server = await ServerProcess.StartAsync(_dataDir, StartTimeout);
        var http = new HttpClient { BaseAddress = server.BaseAddress };
        try
        {
            var id = await CreateSessionAsync(http, SessiondServer.NewId("app"));
            var received = new List<long>();
            var eventIds = new Dictionary<long, string>();
            void Receive(SseFrame frame)
            {
                received.Add(frame.Seq);
                eventIds[frame.Seq] = frame.Json.GetProperty("id").GetString()!;
            }

            for (var kill = 0; kill < Kills; kill++)
            {
                var killed = 0;
                var writerHttp = http;
                var writer = Task.Run(async () =>
                {
                    // Bursts of 1-20 events until the server dies under it; the append in flight then may or may not have committed.
                    for (var n = 0; ; n++)
                    {
                        try
                        {
                            await AppendAsync(writerHttp, id, 1 + (n * 7 % 20));
                        }
                        catch (Exception ex) when (ex is HttpRequestException or IOException && Volatile.Read(ref killed) == 1)
                        {
                            return;
                        }
                    }
                });

                await using var client = await SseClient.ConnectAsync(
                    http, $"/v1/sessions/{id}/stream", received.Count == 0 ? null : received[^1].ToString(System.Globalization.CultureInfo.InvariantCulture));
                for (var count = 0; count < EventsPerConnection;)
                {
                    var frame = await client.NextAsync($"event {count + 1} of {EventsPerConnection} before kill {kill + 1}");
                    if (frame.Event == "event")
                    {
                        Receive(frame);
                        count++;
                    }
                }

                writer.IsCompleted.ShouldBeFalse($"the writer must still be appending when the server is killed ({writer.Exception?.GetBaseException().Message})");
                Volatile.Write(ref killed, 1);
                await server.KillAsync(StopTimeout);
                await writer.WaitForAsync(StopTimeout, "the writer to notice the server is gone");
                await client.WaitForCloseAsync("the stream to drop when the server process is killed");
                while (client.Frames.TryRead(out var frame))
                {
                    if (frame.Event == "event")
                    {
                        Receive(frame);
                    }
                }

                client.LastEventId.ShouldBe(received[^1].ToString(System.Globalization.CultureInfo.InvariantCulture));
                await server.RestartAsync(StartTimeout);
                http.Dispose();
                http = new HttpClient { BaseAddress = server.BaseAddress };
            }

            var lastSeq = await AppendAsync(http, id, 10);
            await using (var final = await SseClient.ConnectAsync(
                http, $"/v1/sessions/{id}/stream", received[^1].ToString(System.Globalization.CultureInfo.InvariantCulture)))
            {
                await final.ReadEventsThroughAsync(lastSeq, onEvent: Receive);
            }

            received.ShouldBeOneThrough(lastSeq, $"a client over {Kills + 1} connections and {Kills} SIGKILLs of the server");
            var stored = await StoredEventIdsAsync(http, id);
            foreach (var (seq, eventId) in eventIds)
            {
                stored[seq].ShouldBe(eventId, $"the event streamed as seq {seq} must be the one stored as seq {seq} after the restarts");
            }
        }
        finally
        {
            http.Dispose();
        }
    }

    [Fact]
    public async Task A_graceful_stop_closes_open_streams_and_clients_resume_on_the_restarted_host()
    {
        var app = SessiondServer.NewId("app");
        var (first, firstHttp) = await StartHostAsync();
        string id;
        var received = new List<long>();
        SseClient client;
        SseClient feed;
        SseFrame created;
        try
        {
            feed = await SseClient.ConnectAsync(firstHttp, $"/v1/stream?appName={app}&userId=alice");
            id = await CreateSessionAsync(firstHttp, app, "alice");
            await AppendAsync(firstHttp, id, 100);
            client = await SseClient.ConnectAsync(firstHttp, $"/v1/sessions/{id}/stream");
            received.AddRange(await client.ReadEventsThroughAsync(100));
            await AppendAsync(firstHttp, id, 50);
            created = (await feed.ReadUntilAsync(f => f.Event == "created", "the feed's created notice"))[^1];

            await first.StopAsync().WaitForAsync(StopTimeout, "the host to stop while a stream and a feed are open");
            await client.WaitForCloseAsync("the stream to close when the server stops");
            await feed.WaitForCloseAsync("the feed to close when the server stops");
        }
        finally
        {
            firstHttp.Dispose();
            await first.DisposeAsync();
        }

        while (client.Frames.TryRead(out var frame))
        {
            if (frame.Event == "event")
            {
                received.Add(frame.Seq);
            }
        }

        await client.DisposeAsync();
        await feed.DisposeAsync();
        var (second, secondHttp) = await StartHostAsync();
        try
        {
            var lastSeq = await AppendAsync(secondHttp, id, 50);
            await using var resumed = await client.ReconnectAsync(secondHttp);
            if (received[^1] < lastSeq)
            {
                received.AddRange(await resumed.ReadEventsThroughAsync(lastSeq));
            }

            received.ShouldBeOneThrough(lastSeq, "a client resuming on the restarted host");

            // The feed resumes after the created notice: the two appends follow, each once, with ids past it.
            await using var resumedFeed = await SseClient.ConnectAsync(secondHttp, $"/v1/stream?appName={app}&userId=alice", created.Id);
            var notices = await resumedFeed.ReadUntilAsync(
                f => f.Event == "updated" && f.Json.GetProperty("lastSeq").GetInt64() == lastSeq, "the feed's notice of the append after the restart");
            notices.Where(f => !f.IsComment).Select(f => (f.Event, f.Json.GetProperty("lastSeq").GetInt64()))
                .ShouldBe([("updated", 100L), ("updated", 150L), ("updated", lastSeq)]);
            notices.Where(f => !f.IsComment).Select(f => f.Seq).ShouldBeInOrder(SortDirection.Ascending);
            notices.Where(f => !f.IsComment).ShouldAllBe(f => f.Seq > created.Seq);
        }
        finally
        {
            secondHttp.Dispose();
            await second.StopAsync().WaitForAsync(StopTimeout, "the restarted host to stop");
            await second.DisposeAsync();
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    private async Task<(WebApplication App, HttpClient Http)> StartHostAsync()
    {
        var app = SessiondHost.Build(["--urls", "http://127.0.0.1:0", "--data-dir", _dataDir, "--Logging:LogLevel:Default=Warning"]);
        await app.StartAsync().WaitForAsync(StartTimeout, $"an in-process host to start on {_dataDir}");
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return (app, new HttpClient { BaseAddress = new Uri(address + "/") });
    }
}
