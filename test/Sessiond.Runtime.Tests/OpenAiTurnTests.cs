using Microsoft.Extensions.Logging.Abstractions;
using Sessiond.Core.Access;
using Sessiond.Core.Events;
using Sessiond.Core.Sessions;
using Sessiond.Core.Validation;
using Sessiond.Runtime.Agents;
using Sessiond.Runtime.Models;
using Sessiond.Runtime.Tools;
using Sessiond.Runtime.Turns;
using Sessiond.Storage.Sqlite;
using Shouldly;

namespace Sessiond.Runtime.Tests;

/// <summary>Whole turns against the fake OpenAI-compatible server, over a real SQLite store.</summary>
public sealed class OpenAiTurnTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "sessiond-runtime-" + Guid.NewGuid().ToString("N"));
    private FakeOpenAiServer _openAi = null!;
    private SqliteSessionStore _store = null!;
    private SessionService _sessions = null!;
    private TurnCoordinator _turns = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _openAi = await FakeOpenAiServer.StartAsync(Ct);
        _store = new SqliteSessionStore(new SqliteStoreOptions { DataDirectory = _dataDir });
        await _store.InitializeAsync(Ct);
        _sessions = new SessionService(_store, new SessiondLimits(), TimeProvider.System);
        var app = new AppDefinition(
            "chat", "(test)",
            new Dictionary<string, ModelDefinition>
            {
                ["gpt"] = new("gpt", "openai", "fake-model") { BaseUrl = _openAi.BaseUrl.ToString(), InputPerMTok = 1_000_000, OutputPerMTok = 2_000_000 },
            },
            new Dictionary<string, AgentDefinition> { ["root"] = new("root", "gpt", "Be helpful.") { Tools = ["builtin"] } },
            new Dictionary<string, ToolsetDefinition>(),
            PermissionRules.None);
        _turns = new TurnCoordinator(new TurnServices(
            _sessions, _store, AgentCatalog.Of(app), new ModelClientFactory(TimeProvider.System), new ToolsetFactory(),
            new TraceRecorder(TimeProvider.System), TimeProvider.System, NullLogger.Instance));
    }

    public async ValueTask DisposeAsync()
    {
        await _turns.DisposeAsync();
        await _store.DisposeAsync();
        await _openAi.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task A_turn_streams_text_runs_the_models_tool_call_and_sends_the_result_back()
    {
        _openAi.Enqueue(
            FakeReply.Stream().Text("Setting ", "it.").ToolCall(0, "call_1", "set_state", "{\"key\":\"co", "lor\",\"value\":\"green\"}")
                .Finish("tool_calls").Usage(10, 4).Done(),
            FakeReply.Stream().Text("Green ", "it is.").Finish("stop").Usage(20, 3).Done());
        var session = await CreateAsync();

        var updates = await RunAsync(session.Id, "make it green");

        string.Concat(updates.OfType<TurnUpdate.Partial>().Select(p => p.Event.Content!.Parts![0].Text)).ShouldBe("Setting it.Green it is.");
        var committed = updates.OfType<TurnUpdate.Committed>().Select(c => c.Event.ToEvent()).ToList();
        committed.Count.ShouldBe(4);
        committed[1].Content!.Parts!.Select(p => p.FunctionCall?.Name).ShouldContain("set_state");
        committed[2].Content!.Parts![0].FunctionResponse!.Id.ShouldBe("call_1");
        committed[3].Content!.Parts![0].Text.ShouldBe("Green it is.");
        committed[3].TurnComplete.ShouldBe(true);
        var stored = (await _store.GetSessionAsync(session.Id, Ct))!;
        stored.State["color"].GetString().ShouldBe("green");
        stored.Usage.ShouldBe(new EventUsage(30, 7, 30m + 14m));
        stored.Status.ShouldBe(SessionStatus.Idle);
        var second = _openAi.Requests[1].Body.GetProperty("messages").EnumerateArray().ToList();
        second[0].GetProperty("role").GetString().ShouldBe("system");
        second[^1].GetProperty("role").GetString().ShouldBe("tool");
        second[^1].GetProperty("tool_call_id").GetString().ShouldBe("call_1");
        _openAi.Requests[0].Body.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("function").GetProperty("name").GetString())
            .ShouldBe(["get_state", "set_state", "current_time"], ignoreOrder: true);
    }

    [Fact]
    public async Task Arguments_that_are_not_json_are_answered_with_an_error_for_the_model()
    {
        _openAi.Enqueue(
            FakeReply.Stream().ToolCall(0, "call_bad", "set_state", "{not json").Finish("tool_calls").Done(),
            FakeReply.Completion("Sorry."));
        var session = await CreateAsync();

        var committed = (await RunAsync(session.Id, "go")).OfType<TurnUpdate.Committed>().Select(c => c.Event.ToEvent()).ToList();

        var response = committed.Single(e => e.Content?.Parts?[0].FunctionResponse is not null).Content!.Parts![0].FunctionResponse!.Response!.Value;
        response.GetProperty("error").GetString()!.ShouldContain("not a JSON object");
        (await _store.GetSessionAsync(session.Id, Ct))!.State.ContainsKey("color").ShouldBeFalse();
    }

    [Fact]
    public async Task A_model_error_ends_the_turn_with_its_code_and_the_session_failed()
    {
        _openAi.Enqueue(FakeReply.Error(401, "invalid api key"));
        var session = await CreateAsync();

        var committed = (await RunAsync(session.Id, "hi")).OfType<TurnUpdate.Committed>().Select(c => c.Event.ToEvent()).ToList();

        committed[^1].ErrorCode.ShouldBe(ModelException.Unauthorized);
        committed[^1].TurnComplete.ShouldBe(true);
        (await _store.GetSessionAsync(session.Id, Ct))!.Status.ShouldBe(SessionStatus.Failed);
    }

    private Task<Session> CreateAsync() =>
        _sessions.CreateAsync(Caller.System, new CreateSessionCommand { AppName = "chat", UserId = "u" }, Ct);

    /// <summary>Starts a turn and reads its updates until it ends, then waits for the session to settle.</summary>
    private async Task<List<TurnUpdate>> RunAsync(string sessionId, string text)
    {
        var handle = await _turns.StartTurnAsync(Caller.System, sessionId, new TurnRequest(TurnInput.FromText(text)), Ct);
        var updates = new List<TurnUpdate>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        await foreach (var update in handle.Updates.WithCancellation(deadline.Token))
        {
            updates.Add(update);
        }

        updates.OfType<TurnUpdate.Status>().Last().Value.ShouldNotBe(SessionStatus.Running, "the turn's updates end with its final status");
        return updates;
    }
}
