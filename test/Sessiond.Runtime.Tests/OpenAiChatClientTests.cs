using System.Text.Json;
using Microsoft.Extensions.AI;
using Sessiond.Runtime.Agents;
using Sessiond.Runtime.Models;
using Shouldly;

namespace Sessiond.Runtime.Tests;

public sealed class OpenAiChatClientTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly ChatMessage[] Hello = [new(ChatRole.User, "hello")];

    private readonly string keyVariable = $"SESSIOND_TEST_KEY_{Guid.NewGuid():N}";
    private readonly string key = $"sk-test-{Guid.NewGuid():N}";
    private FakeOpenAiServer server = null!;

    private static CancellationToken TestToken => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Environment.SetEnvironmentVariable(keyVariable, key);
        server = await FakeOpenAiServer.StartAsync(TestToken);
    }

    public async ValueTask DisposeAsync()
    {
        Environment.SetEnvironmentVariable(keyVariable, null);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Streamed_text_arrives_in_order_then_usage_and_finish_reason()
    {
        server.Enqueue(FakeReply.Stream().Text("Hel").Pause(TimeSpan.FromMilliseconds(20)).Text("lo ", "world").Finish("stop").Usage(7, 3).Done());
        using var client = Client();

        var updates = await Collect(client.GetStreamingResponseAsync(Hello, cancellationToken: TestToken));

        updates.Where(u => u.Text.Length > 0).Select(u => u.Text).ShouldBe(["Hel", "lo ", "world"]);
        var usage = updates[^1].Contents.OfType<UsageContent>().ShouldHaveSingleItem().Details;
        (usage.InputTokenCount, usage.OutputTokenCount, usage.TotalTokenCount).ShouldBe((7L, 3L, 10L));
        updates[^1].FinishReason.ShouldBe(ChatFinishReason.Stop);
        server.Requests.ShouldHaveSingleItem().Authorization.ShouldBe($"Bearer {key}");
    }

    [Fact]
    public async Task A_whole_response_aggregates_the_stream_through_a_given_http_client_without_a_key()
    {
        server.Enqueue(FakeReply.Completion("Hel", "lo"));
        using var http = new HttpClient();
        using var client = new OpenAiChatClient(Model() with { ApiKeyEnv = null }, TimeProvider.System, http);

        var response = await client.GetResponseAsync(Hello, cancellationToken: TestToken);

        response.Text.ShouldBe("Hello");
        response.Usage.ShouldNotBeNull().OutputTokenCount.ShouldBe(2);
        response.FinishReason.ShouldBe(ChatFinishReason.Stop);
        server.Requests.ShouldHaveSingleItem().Authorization.ShouldStartWith("Bearer ", customMessage: "a placeholder key, since local servers ignore it");
    }

    [Fact]
    public void The_factory_serves_the_openai_provider()
    {
        using var client = new ModelClientFactory(TimeProvider.System).Create(Model());

        client.ShouldBeOfType<OpenAiChatClient>();
    }

    [Fact]
    public async Task Tool_calls_are_assembled_from_interleaved_fragments()
    {
        server.Enqueue(FakeReply.Stream()
            .Text("Checking.")
            .ToolCallStart(0, "call_a", "get_state")
            .ToolCallStart(1, "call_b", "set_state")
            .ToolCallArguments(0, "{\"ke")
            .ToolCallArguments(1, "{\"key\":\"x\",")
            .ToolCallArguments(0, "y\":\"count\"}")
            .ToolCallArguments(1, "\"value\":2}")
            .Finish("tool_calls").Usage(12, 8).Done());
        using var client = Client();

        var updates = await Collect(client.GetStreamingResponseAsync(Hello, cancellationToken: TestToken));

        var calls = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ToList();
        calls.Select(c => (c.CallId, c.Name)).ShouldBe([("call_a", "get_state"), ("call_b", "set_state")]);
        calls.ShouldAllBe(c => c.Exception == null);
        Arg(calls[0], "key").GetString().ShouldBe("count");
        Arg(calls[1], "key").GetString().ShouldBe("x");
        Arg(calls[1], "value").GetInt32().ShouldBe(2);
        updates.Count(u => u.Contents.OfType<FunctionCallContent>().Any()).ShouldBe(2, "one update per tool call");
        updates[^1].FinishReason.ShouldBe(ChatFinishReason.ToolCalls);
    }

    [Fact]
    public async Task The_request_carries_instructions_history_tool_results_and_tool_declarations()
    {
        server.Enqueue(FakeReply.Completion("ok"));
        using var client = Client();
        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"key":{"type":"string"}},"required":["key"]}""");
        var options = new ChatOptions
        {
            Instructions = "Be brief.",
            Tools = [AIFunctionFactory.CreateDeclaration("get_state", "Reads one state key.", schema.RootElement)],
        };
        ChatMessage[] history =
        [
            new(ChatRole.User, "what is count?"),
            new(ChatRole.Assistant, [new TextContent("Let me look."), new FunctionCallContent("call_1", "get_state", new Dictionary<string, object?> { ["key"] = "count" })]),
            new(ChatRole.Tool, [new FunctionResultContent("call_1", new Dictionary<string, object?> { ["value"] = 3 })]),
            new(ChatRole.User, "thanks"),
        ];

        await Collect(client.GetStreamingResponseAsync(history, options, TestToken));

        var body = server.Requests.ShouldHaveSingleItem().Body;
        body.GetProperty("model").GetString().ShouldBe("fake-model");
        body.GetProperty("stream").GetBoolean().ShouldBeTrue();
        body.GetProperty("stream_options").GetProperty("include_usage").GetBoolean().ShouldBeTrue();
        var messages = body.GetProperty("messages").EnumerateArray().ToList();
        messages.Select(m => m.GetProperty("role").GetString()).ShouldBe(["system", "user", "assistant", "tool", "user"]);
        Text(messages[0]).ShouldBe("Be brief.");
        Text(messages[2]).ShouldBe("Let me look.");
        var call = messages[2].GetProperty("tool_calls").EnumerateArray().ShouldHaveSingleItem();
        call.GetProperty("id").GetString().ShouldBe("call_1");
        call.GetProperty("function").GetProperty("name").GetString().ShouldBe("get_state");
        using (var args = JsonDocument.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!))
        {
            args.RootElement.GetProperty("key").GetString().ShouldBe("count");
        }

        messages[3].GetProperty("tool_call_id").GetString().ShouldBe("call_1");
        using (var result = JsonDocument.Parse(Text(messages[3])))
        {
            result.RootElement.GetProperty("value").GetInt32().ShouldBe(3);
        }

        var function = body.GetProperty("tools").EnumerateArray().ShouldHaveSingleItem().GetProperty("function");
        function.GetProperty("name").GetString().ShouldBe("get_state");
        function.GetProperty("description").GetString().ShouldBe("Reads one state key.");
        function.GetProperty("parameters").GetProperty("required")[0].GetString().ShouldBe("key");
    }

    [Fact]
    public async Task Unauthorized_is_model_unauthorized_without_the_key_and_without_retry()
    {
        server.Enqueue(FakeReply.Error(401, $"Incorrect API key provided: {key}."), FakeReply.Completion("never"));
        using var client = Client();

        var error = await Should.ThrowAsync<ModelException>(() => Collect(client.GetStreamingResponseAsync(Hello, cancellationToken: TestToken)));

        error.Code.ShouldBe(ModelException.Unauthorized);
        error.Message.ShouldContain("401");
        error.Message.ShouldNotContain(key);
        server.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Rate_limited_then_success_is_retried_once()
    {
        server.Enqueue(FakeReply.Error(429, "Slow down.", retryAfter: TimeSpan.Zero), FakeReply.Completion("fine"));
        using var client = Client();

        var updates = await Collect(client.GetStreamingResponseAsync(Hello, cancellationToken: TestToken));

        string.Concat(updates.Select(u => u.Text)).ShouldBe("fine");
        server.Requests.Count.ShouldBe(2);
    }

    [Fact]
    public async Task Rate_limited_with_a_long_retry_after_fails_at_once_as_model_rate_limited()
    {
        server.Enqueue(FakeReply.Error(429, "Quota exceeded.", retryAfter: TimeSpan.FromMinutes(1)), FakeReply.Completion("never"));
        using var client = Client();

        var error = await Should.ThrowAsync<ModelException>(() => Collect(client.GetStreamingResponseAsync(Hello, cancellationToken: TestToken)));

        error.Code.ShouldBe(ModelException.RateLimited);
        error.Message.ShouldContain("Quota exceeded.");
        server.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Server_errors_past_the_retries_are_model_unavailable()
    {
        server.Enqueue(FakeReply.Error(500, "boom"), FakeReply.Error(502, "boom"), FakeReply.Error(503, "boom"), FakeReply.Completion("too late"));
        using var client = Client();

        var error = await Should.ThrowAsync<ModelException>(() => Collect(client.GetStreamingResponseAsync(Hello, cancellationToken: TestToken)));

        error.Code.ShouldBe(ModelException.Unavailable);
        error.Message.ShouldContain("503");
        server.Requests.Count.ShouldBe(1 + OpenAiChatClient.MaxRetries);
    }

    [Fact]
    public async Task A_stream_broken_before_anything_reached_the_caller_is_retried_afresh()
    {
        server.Enqueue(
            FakeReply.Stream().ToolCallStart(0, "call_stale", "stale").ToolCallArguments(0, "{\"a\":").Abort(),
            FakeReply.Stream().ToolCall(0, "call_fresh", "fresh", "{}").Finish("tool_calls").Usage(1, 1).Done());
        using var client = Client();

        var updates = await Collect(client.GetStreamingResponseAsync(Hello, cancellationToken: TestToken));

        var call = updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>().ShouldHaveSingleItem();
        (call.CallId, call.Name, call.Exception).ShouldBe(("call_fresh", "fresh", null));
        server.Requests.Count.ShouldBe(2);
    }

    [Fact]
    public async Task A_refused_connection_is_model_unavailable()
    {
        var closed = await FakeOpenAiServer.StartAsync(TestToken);
        var baseUrl = closed.BaseUrl;
        await closed.DisposeAsync();
        using var client = new OpenAiChatClient(Model() with { BaseUrl = baseUrl.ToString() }, TimeProvider.System);

        var error = await Should.ThrowAsync<ModelException>(() => Collect(client.GetStreamingResponseAsync(Hello, cancellationToken: TestToken)));

        error.Code.ShouldBe(ModelException.Unavailable);
    }

    [Fact]
    public async Task An_error_after_the_first_token_surfaces_without_retry()
    {
        var firstTokenSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Enqueue(FakeReply.Stream().Text("Hel").WaitFor(firstTokenSeen.Task).Abort(), FakeReply.Completion("again"));
        using var client = Client();
        await using var updates = client.GetStreamingResponseAsync(Hello, cancellationToken: TestToken).GetAsyncEnumerator(TestToken);

        (await Within(updates.MoveNextAsync().AsTask(), "the first streamed token")).ShouldBeTrue();
        updates.Current.Text.ShouldBe("Hel");
        firstTokenSeen.SetResult();
        var error = await Should.ThrowAsync<ModelException>(() => Within(updates.MoveNextAsync().AsTask(), "the dropped connection to surface"));

        error.Code.ShouldBe(ModelException.Unavailable);
        server.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_stream_that_stalls_past_the_model_timeout_is_model_timeout()
    {
        server.Enqueue(FakeReply.Stream().Text("Hel").Hang(), FakeReply.Completion("again"));
        using var client = Client(timeout: TimeSpan.FromMilliseconds(300));

        var error = await Should.ThrowAsync<ModelException>(() => Within(Collect(client.GetStreamingResponseAsync(Hello, cancellationToken: TestToken)), "the 300 ms model timeout"));

        error.Code.ShouldBe(ModelException.Timeout);
        server.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task Caller_cancellation_mid_stream_is_an_operation_canceled_exception()
    {
        server.Enqueue(FakeReply.Stream().Text("Hel").Hang());
        using var client = Client();
        using var caller = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
        await using var updates = client.GetStreamingResponseAsync(Hello, cancellationToken: caller.Token).GetAsyncEnumerator(caller.Token);
        (await Within(updates.MoveNextAsync().AsTask(), "the first streamed token")).ShouldBeTrue();

        var next = updates.MoveNextAsync().AsTask();
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Within(next, "the cancelled stream to stop"));
        await Within(server.Requests.ShouldHaveSingleItem().HungUp, "the server to see the client hang up");
    }

    private OpenAiChatClient Client(TimeSpan? timeout = null) =>
        new(Model() with { Timeout = timeout ?? TimeSpan.FromMinutes(1) }, TimeProvider.System);

    private ModelDefinition Model() => new("test", "openai", "fake-model") { BaseUrl = server.BaseUrl.ToString(), ApiKeyEnv = keyVariable };

    private static async Task<List<ChatResponseUpdate>> Collect(IAsyncEnumerable<ChatResponseUpdate> stream)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in stream)
        {
            updates.Add(update);
        }

        return updates;
    }

    private static async Task<T> Within<T>(Task<T> task, string what)
    {
        await Within((Task)task, what);
        return await task;
    }

    /// <summary>Awaits <paramref name="task"/>, failing with what was awaited when it takes longer than <see cref="Patience"/>.</summary>
    private static async Task Within(Task task, string what)
    {
        try
        {
            await task.WaitAsync(Patience, TestToken);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            throw new TimeoutException($"Waited {Patience.TotalSeconds} s for {what}.");
        }
    }

    private static JsonElement Arg(FunctionCallContent call, string name) => (JsonElement)call.Arguments.ShouldNotBeNull()[name]!;

    /// <summary>A message's content, which the SDK sends as a string or as an array of text parts.</summary>
    private static string Text(JsonElement message)
    {
        var content = message.GetProperty("content");
        return content.ValueKind == JsonValueKind.String
            ? content.GetString()!
            : string.Concat(content.EnumerateArray().Select(p => p.GetProperty("text").GetString()));
    }
}
