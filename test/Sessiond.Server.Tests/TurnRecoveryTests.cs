using System.Net;
using System.Text.Json;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>Turns across <c>kill -9</c> and restart of a real server process.</summary>
public sealed class TurnRecoveryTests : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "sessiond-recovery-" + Guid.NewGuid().ToString("N"));
    private readonly string _agentsDir = RuntimeServer.WriteAgents();
    private ServerProcess _server = null!;
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await ServerProcess.StartAsync(_dataDir, StartTimeout, ["--agents-dir", _agentsDir]);
        _http = new HttpClient { BaseAddress = _server.BaseAddress };
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
        Directory.Delete(_agentsDir, recursive: true);
    }

    [Fact]
    public async Task Killed_mid_turn_the_session_is_repaired_at_the_next_start_and_its_followups_run()
    {
        var id = await StreamTestHelpers.CreateSessionAsync(_http, "slow", "u");
        await using (var stream = await SseClient.ConnectAsync(_http, $"v1/sessions/{id}/stream"))
        {
            (await _http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"long"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
            await stream.ReadUntilAsync(f => f.Event == "delta", "the first delta");
            using var followup = new HttpRequestMessage(HttpMethod.Post, $"v1/sessions/{id}/followups")
            {
                Content = new StringContent("""{"input":"after the crash"}""", System.Text.Encoding.UTF8, "application/json"),
            };
            followup.Headers.Add("Idempotency-Key", "k1");
            (await (await _http.SendAsync(followup, TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.Accepted))
                .GetProperty("status").GetString().ShouldBe("queued");
            await _server.KillAsync(StartTimeout);
        }

        await RestartAsync();

        await WaitForStatusAsync(id, "idle", "the follow-up's own turn", events => events.Any(e => e.GetRawText().Contains("\"after the crash\"")) &&
            events[^1].TryGetProperty("turnComplete", out _) && !events[^1].TryGetProperty("interrupted", out _));
        var all = await EventsAsync(id);
        var interrupted = all.FindIndex(e => e.TryGetProperty("interrupted", out var i) && i.GetBoolean());
        interrupted.ShouldBeGreaterThan(0);
        all.FindIndex(e => e.GetRawText().Contains("\"after the crash\"")).ShouldBeGreaterThan(interrupted);
        all.Select(e => e.GetProperty("seq").GetInt64()).ShouldBe(Enumerable.Range(1, all.Count).Select(i => (long)i));
    }

    [Fact]
    public async Task A_graceful_stop_mid_turn_interrupts_it_and_its_followup_runs_at_the_next_start()
    {
        var id = await StreamTestHelpers.CreateSessionAsync(_http, "slow", "u");
        await using (var stream = await SseClient.ConnectAsync(_http, $"v1/sessions/{id}/stream"))
        {
            (await _http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"long"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
            await stream.ReadUntilAsync(f => f.Event == "delta", "the first delta");
            (await (await _http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"queued before the stop","mode":"enqueue"}"""))
                .ShouldBeJsonAsync(HttpStatusCode.Accepted)).GetProperty("status").GetString().ShouldBe("queued");
            await _server.StopAsync(StartTimeout);
        }

        var stopped = await EventsOnDiskAfterRestartAsync(id);
        stopped.Any(e => e.TryGetProperty("interrupted", out var i) && i.GetBoolean()).ShouldBeTrue("the stop recorded the interruption");

        await WaitForStatusAsync(id, "idle", "the queued turn", events => events.Any(e => e.GetRawText().Contains("\"queued before the stop\"")) &&
            events[^1].TryGetProperty("turnComplete", out _) && !events[^1].TryGetProperty("interrupted", out _));
    }

    [Fact]
    public async Task An_approval_after_a_restart_resumes_the_paused_turn()
    {
        var id = await StreamTestHelpers.CreateSessionAsync(_http, "approve", "u");
        (await _http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"set it"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await WaitForStatusAsync(id, "waiting", "the approval request", _ => true);
        await _server.KillAsync(StartTimeout);

        await RestartAsync();

        var status = await (await _http.GetAsync($"v1/sessions/{id}/status", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK);
        status.GetProperty("status").GetString().ShouldBe("waiting");
        var callId = status.GetProperty("pendingApprovals")[0].GetProperty("toolCallId").GetString();
        await (await _http.PostJsonAsync($"v1/sessions/{id}/approvals", $$"""{"toolCallId":"{{callId}}","decision":"approve"}"""))
            .ShouldBeJsonAsync(HttpStatusCode.OK);
        await WaitForStatusAsync(id, "idle", "the resumed turn's end", _ => true);

        var session = await (await _http.GetAsync($"v1/sessions/{id}?events=all", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK);
        session.GetProperty("state").GetProperty("color").GetString().ShouldBe("blue");
        session.GetProperty("events").EnumerateArray().Last().GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString()
            .ShouldBe("The color is blue.");
    }

    private async Task<List<JsonElement>> EventsOnDiskAfterRestartAsync(string id)
    {
        await RestartAsync();
        return await EventsAsync(id);
    }

    private async Task RestartAsync()
    {
        await _server.RestartAsync(StartTimeout);
        _http.Dispose();
        _http = new HttpClient { BaseAddress = _server.BaseAddress };
    }

    /// <summary>Follows the session stream until it reports <paramref name="status"/> with events that satisfy <paramref name="done"/>.</summary>
    private async Task WaitForStatusAsync(string id, string status, string what, Func<List<JsonElement>, bool> done)
    {
        await using var stream = await SseClient.ConnectAsync(_http, $"v1/sessions/{id}/stream");
        while (true)
        {
            await stream.ReadUntilAsync(f => f.Event == "status" && f.Json.GetProperty("status").GetString() == status, $"status '{status}' with {what}");
            if (done(await EventsAsync(id)))
            {
                return;
            }
        }
    }

    private async Task<List<JsonElement>> EventsAsync(string id)
    {
        var body = await (await _http.GetAsync($"v1/sessions/{id}/events?limit=1000", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK);
        return [.. body.GetProperty("events").EnumerateArray()];
    }
}
