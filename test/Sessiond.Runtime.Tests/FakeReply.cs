using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Sessiond.Runtime.Tests;

/// <summary>
/// One scripted answer of <see cref="FakeOpenAiServer"/>: either an HTTP error, or a stream of steps (chunks, pauses,
/// barriers, a hang, a dropped connection) played in order. Builder methods return this reply so steps chain.
/// </summary>
public sealed class FakeReply
{
    private readonly List<Func<HttpContext, CancellationToken, Task>> steps = [];

    private FakeReply(int status) => Status = status;

    /// <summary>The HTTP status; 200 means a server-sent-event stream.</summary>
    public int Status { get; }

    /// <summary>For an error reply: the JSON body and extra headers.</summary>
    public string? ErrorBody { get; private init; }

    /// <summary>Extra response headers, such as <c>Retry-After</c>.</summary>
    public Dictionary<string, string> Headers { get; } = [];

    /// <summary>An empty 200 stream; add steps to it.</summary>
    public static FakeReply Stream() => new(200);

    /// <summary>A whole answer: <paramref name="deltas"/> as text chunks, finish <c>stop</c>, usage, <c>[DONE]</c>.</summary>
    public static FakeReply Completion(params string[] deltas) =>
        Stream().Text(deltas).Finish("stop").Usage(promptTokens: 10, completionTokens: deltas.Length).Done();

    /// <summary>An HTTP error with an OpenAI-style <c>{"error": {...}}</c> body.</summary>
    public static FakeReply Error(int status, string message, TimeSpan? retryAfter = null)
    {
        var reply = new FakeReply(status)
        {
            ErrorBody = new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "fake_error", ["code"] = status } }.ToJsonString(),
        };
        if (retryAfter is { } wait)
        {
            reply.Headers["Retry-After"] = ((int)wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return reply;
    }

    /// <summary>One chunk per delta, each carrying assistant text.</summary>
    public FakeReply Text(params string[] deltas)
    {
        foreach (var delta in deltas)
        {
            Delta(new JsonObject { ["role"] = "assistant", ["content"] = delta });
        }

        return this;
    }

    /// <summary>A tool call: a chunk with its id and name, then one chunk per fragment of its JSON arguments.</summary>
    public FakeReply ToolCall(int index, string id, string name, params string[] argumentFragments)
    {
        ToolCallStart(index, id, name);
        foreach (var fragment in argumentFragments)
        {
            ToolCallArguments(index, fragment);
        }

        return this;
    }

    /// <summary>The first chunk of tool call <paramref name="index"/>: id, name and empty arguments.</summary>
    public FakeReply ToolCallStart(int index, string id, string name) => Delta(new JsonObject
    {
        ["tool_calls"] = new JsonArray(new JsonObject
        {
            ["index"] = index, ["id"] = id, ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = name, ["arguments"] = "" },
        }),
    });

    /// <summary>A later chunk of tool call <paramref name="index"/>, carrying only a piece of its arguments.</summary>
    public FakeReply ToolCallArguments(int index, string fragment) => Delta(new JsonObject
    {
        ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = index, ["function"] = new JsonObject { ["arguments"] = fragment } }),
    });

    /// <summary>The chunk with the choice's <c>finish_reason</c> (<c>stop</c>, <c>tool_calls</c>, <c>length</c>).</summary>
    public FakeReply Finish(string reason) => Chunk(new JsonArray(new JsonObject
    {
        ["index"] = 0, ["delta"] = new JsonObject(), ["finish_reason"] = reason,
    }));

    /// <summary>The usage chunk OpenAI sends last when asked for <c>stream_options.include_usage</c>: no choices.</summary>
    public FakeReply Usage(int promptTokens, int completionTokens) => Chunk(new JsonArray(), new JsonObject
    {
        ["prompt_tokens"] = promptTokens, ["completion_tokens"] = completionTokens, ["total_tokens"] = promptTokens + completionTokens,
    });

    /// <summary>The <c>data: [DONE]</c> line that ends a stream.</summary>
    public FakeReply Done() => Step((context, token) => WriteAsync(context, "[DONE]", token));

    /// <summary>Waits before the next step, for a slow stream.</summary>
    public FakeReply Pause(TimeSpan delay) => Step((_, token) => Task.Delay(delay, token));

    /// <summary>Waits for <paramref name="gate"/> before the next step, so a test decides when the stream goes on.</summary>
    public FakeReply WaitFor(Task gate) => Step((_, token) => gate.WaitAsync(token));

    /// <summary>Stops sending without ending the response, until the client hangs up or the server stops.</summary>
    public FakeReply Hang() => Step((_, token) => Task.Delay(Timeout.Infinite, token));

    /// <summary>Drops the connection mid-response, as a crashing server would.</summary>
    public FakeReply Abort() => Step((context, _) =>
    {
        context.Abort();
        return Task.CompletedTask;
    });

    /// <summary>Plays the steps against a response whose headers are already set.</summary>
    internal async Task PlayAsync(HttpContext context, CancellationToken cancellationToken)
    {
        foreach (var step in steps)
        {
            await step(context, cancellationToken);
        }
    }

    private FakeReply Delta(JsonObject delta) =>
        Chunk(new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = null }));

    private FakeReply Chunk(JsonArray choices, JsonObject? usage = null)
    {
        var chunk = new JsonObject
        {
            ["id"] = "chatcmpl-fake", ["object"] = "chat.completion.chunk", ["created"] = 1_700_000_000, ["model"] = "fake-model",
            ["choices"] = choices,
        };
        if (usage is not null)
        {
            chunk["usage"] = usage;
        }

        var json = chunk.ToJsonString();
        return Step((context, token) => WriteAsync(context, json, token));
    }

    private FakeReply Step(Func<HttpContext, CancellationToken, Task> step)
    {
        steps.Add(step);
        return this;
    }

    private static async Task WriteAsync(HttpContext context, string data, CancellationToken cancellationToken)
    {
        await context.Response.WriteAsync($"data: {data}\n\n", cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }
}
