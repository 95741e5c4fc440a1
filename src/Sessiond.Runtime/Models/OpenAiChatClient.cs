using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using Sessiond.Runtime.Agents;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using AiFinishReason = Microsoft.Extensions.AI.ChatFinishReason;
using SdkChatMessage = OpenAI.Chat.ChatMessage;
using SdkFinishReason = OpenAI.Chat.ChatFinishReason;

namespace Sessiond.Runtime.Models;

/// <summary>
/// A model behind any OpenAI-compatible chat completions endpoint (OpenAI, Ollama, vLLM, llama.cpp, LM Studio), through
/// the official <c>OpenAI</c> SDK. Streams text as it arrives, then one <see cref="FunctionCallContent"/> per tool call,
/// then a final update with <see cref="UsageContent"/> and the finish reason, the same shapes as <see cref="OfflineChatClient"/>.
/// Failures become <see cref="ModelException"/>s; the caller's cancellation stays an <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class OpenAiChatClient : IChatClient
{
    /// <summary>Retries after the first attempt, for rate limits and unavailable servers only.</summary>
    internal const int MaxRetries = 2;

    /// <summary>The first backoff; each retry doubles it.</summary>
    internal static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(200);

    /// <summary>A server asking for a longer pause than this gets no retry: the turn fails now rather than stall.</summary>
    internal static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(5);

    // Local servers (Ollama, llama.cpp) ignore the key, but the SDK requires one.
    private const string PlaceholderKey = "sessiond-no-key";

    private readonly ModelDefinition model;
    private readonly TimeProvider time;
    private readonly ChatClient chat;
    private readonly HttpClientPipelineTransport? transport;
    private readonly string? apiKey;
    private readonly OpenAIClientOptions clientOptions;

    /// <summary>A client for <paramref name="model"/>; requests go through <paramref name="httpClient"/> when given.</summary>
    public OpenAiChatClient(ModelDefinition model, TimeProvider time, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(time);
        this.model = model;
        this.time = time;
        apiKey = model.ApiKeyEnv is { Length: > 0 } env && Environment.GetEnvironmentVariable(env) is { Length: > 0 } key ? key : null;
        transport = httpClient is null ? null : new HttpClientPipelineTransport(httpClient);
        clientOptions = new OpenAIClientOptions
        {
            // Our loop below is the only retry: it knows whether tokens already reached the caller, the SDK's does not.
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = model.Timeout,
        };
        if (model.BaseUrl is { Length: > 0 } baseUrl)
        {
            clientOptions.Endpoint = new Uri(baseUrl);
        }

        if (transport is not null)
        {
            clientOptions.Transport = transport;
        }

        chat = new ChatClient(model.Model, new ApiKeyCredential(apiKey ?? PlaceholderKey), clientOptions);
    }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<AiChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<AiChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var request = ToSdkMessages(messages, options);
        var requestOptions = ToSdkOptions(options);
        using var timeout = new CancellationTokenSource(model.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var stream = new StreamState();
        IAsyncEnumerator<StreamingChatCompletionUpdate>? updates = null;
        try
        {
            var attempt = 0;
            while (true)
            {
                updates ??= chat.CompleteChatStreamingAsync(request, requestOptions, linked.Token).GetAsyncEnumerator(linked.Token);
                bool more;
                Exception? error = null;
                ModelException? failure = null;
                try
                {
                    more = await updates.MoveNextAsync();
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    (more, error, failure) = (false, e, Translate(e, timeout.IsCancellationRequested));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The caller hung up and the transport reported it as a broken connection: still a cancellation.
                    throw new OperationCanceledException("The model call was cancelled.", e, cancellationToken);
                }

                if (failure is not null)
                {
                    await updates.DisposeAsync();
                    updates = null;
                    // Never retry once an update reached the caller: it would see the same tokens twice.
                    if (stream.Yielded || attempt >= MaxRetries || RetryDelay(failure, error!, attempt) is not { } delay)
                    {
                        throw failure;
                    }

                    attempt++;
                    stream = new StreamState(); // drop tool-call fragments of the failed attempt
                    await DelayAsync(delay, cancellationToken, linked.Token);
                    continue;
                }

                if (!more)
                {
                    break;
                }

                if (stream.Text(updates.Current) is { } text)
                {
                    stream.Yielded = true;
                    yield return text;
                }
            }
        }
        finally
        {
            if (updates is not null)
            {
                await updates.DisposeAsync();
            }
        }

        foreach (var call in stream.ToolCalls())
        {
            yield return call;
        }

        yield return stream.Final();
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(ChatClient) ? chat
            : serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("openai", clientOptions.Endpoint, model.Model)
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc />
    public void Dispose() => transport?.Dispose();

    private static List<SdkChatMessage> ToSdkMessages(IEnumerable<AiChatMessage> messages, ChatOptions? options)
    {
        var result = new List<SdkChatMessage>();
        if (options?.Instructions is { Length: > 0 } instructions)
        {
            result.Add(new SystemChatMessage(instructions));
        }

        foreach (var message in messages)
        {
            if (message.Role == ChatRole.System)
            {
                result.Add(new SystemChatMessage(message.Text));
            }
            else if (message.Role == ChatRole.User)
            {
                result.Add(new UserChatMessage(message.Text));
            }
            else if (message.Role == ChatRole.Assistant)
            {
                result.Add(ToAssistantMessage(message));
            }
            else if (message.Role == ChatRole.Tool)
            {
                result.AddRange(message.Contents.OfType<FunctionResultContent>()
                    .Select(r => new ToolChatMessage(r.CallId, ResultText(r.Result))));
            }
        }

        return result;
    }

    private static AssistantChatMessage ToAssistantMessage(AiChatMessage message)
    {
        var calls = message.Contents.OfType<FunctionCallContent>()
            .Select(c => ChatToolCall.CreateFunctionToolCall(c.CallId, c.Name,
                BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(c.Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions))))
            .ToList();
        if (calls.Count == 0)
        {
            return new AssistantChatMessage(message.Text);
        }

        var assistant = new AssistantChatMessage(calls);
        if (message.Text is { Length: > 0 } text)
        {
            assistant.Content.Add(ChatMessageContentPart.CreateTextPart(text));
        }

        return assistant;
    }

    private static string ResultText(object? result) => result switch
    {
        null => "",
        string text => text,
        JsonElement json => json.GetRawText(),
        _ => JsonSerializer.Serialize(result, AIJsonUtilities.DefaultOptions),
    };

    private static ChatCompletionOptions ToSdkOptions(ChatOptions? options)
    {
        // Usage in the stream: the SDK asks for it (stream_options.include_usage) on every streaming call.
        var result = new ChatCompletionOptions
        {
            Temperature = options?.Temperature,
            TopP = options?.TopP,
            MaxOutputTokenCount = options?.MaxOutputTokens,
        };
        foreach (var stop in options?.StopSequences ?? [])
        {
            result.StopSequences.Add(stop);
        }

        foreach (var function in options?.Tools?.OfType<AIFunctionDeclaration>() ?? [])
        {
            var schema = function.JsonSchema.ValueKind == JsonValueKind.Object ? function.JsonSchema.GetRawText() : """{"type":"object","properties":{}}""";
            result.Tools.Add(ChatTool.CreateFunctionTool(function.Name, function.Description, BinaryData.FromString(schema)));
        }

        return result;
    }

    private ModelException Translate(Exception error, bool timedOut)
    {
        if (timedOut || error is OperationCanceledException or TimeoutException)
        {
            return new ModelException(ModelException.Timeout, $"The model '{model.Name}' did not finish within {model.Timeout}.", error);
        }

        if (error is ClientResultException { Status: > 0 } http)
        {
            var code = http.Status switch
            {
                401 or 403 => ModelException.Unauthorized,
                429 => ModelException.RateLimited,
                >= 500 => ModelException.Unavailable,
                _ => ModelException.Failed,
            };
            return new ModelException(code, Scrub($"The model '{model.Name}' answered HTTP {http.Status}: {ServerMessage(http)}"), error);
        }

        var unreachable = error is HttpRequestException or IOException or SocketException || error.InnerException is HttpRequestException or IOException or SocketException;
        return unreachable
            ? new ModelException(ModelException.Unavailable, Scrub($"The model '{model.Name}' could not be reached: {error.Message}"), error)
            : new ModelException(ModelException.Failed, Scrub($"The model '{model.Name}' failed: {error.Message}"), error);
    }

    /// <summary>The pause before the next attempt, or null when the failure is not worth retrying.</summary>
    private static TimeSpan? RetryDelay(ModelException failure, Exception error, int attempt)
    {
        if (failure.Code is not (ModelException.RateLimited or ModelException.Unavailable))
        {
            return null;
        }

        var headers = (error as ClientResultException)?.GetRawResponse()?.Headers;
        TimeSpan? asked = null;
        if (headers?.TryGetValue("retry-after-ms", out var ms) == true && double.TryParse(ms, CultureInfo.InvariantCulture, out var milliseconds))
        {
            asked = TimeSpan.FromMilliseconds(milliseconds);
        }
        else if (headers?.TryGetValue("Retry-After", out var seconds) == true && double.TryParse(seconds, CultureInfo.InvariantCulture, out var secs))
        {
            asked = TimeSpan.FromSeconds(secs);
        }

        return asked switch
        {
            null => FirstBackoff * (1 << attempt),
            { } wait when wait <= MaxRetryAfter => wait < TimeSpan.Zero ? TimeSpan.Zero : wait,
            _ => null,
        };
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken callerToken, CancellationToken linkedToken)
    {
        try
        {
            await Task.Delay(delay, time, linkedToken);
        }
        catch (OperationCanceledException e) when (!callerToken.IsCancellationRequested)
        {
            throw Translate(e, timedOut: true);
        }
    }

    /// <summary>The server's own <c>error.message</c> when its body has one, else the HTTP reason phrase.</summary>
    private static string ServerMessage(ClientResultException error)
    {
        var response = error.GetRawResponse();
        try
        {
            using var body = JsonDocument.Parse(response?.Content ?? BinaryData.Empty);
            if (body.RootElement.TryGetProperty("error", out var inner) && inner.ValueKind == JsonValueKind.Object
                && inner.TryGetProperty("message", out var message) && message.GetString() is { Length: > 0 } text)
            {
                return text.Length > 500 ? text[..500] + "…" : text;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Not JSON, or the body was not buffered: the reason phrase has to do.
        }

        return response?.ReasonPhrase is { Length: > 0 } reason ? reason : "no detail";
    }

    /// <summary>Servers sometimes echo the key back in an error; it must not reach events or logs.</summary>
    private string Scrub(string message) => apiKey is null ? message : message.Replace(apiKey, "***", StringComparison.Ordinal);

    private static AiFinishReason? ToFinishReason(SdkFinishReason? reason) => reason switch
    {
        SdkFinishReason.Stop => AiFinishReason.Stop,
        SdkFinishReason.Length => AiFinishReason.Length,
        SdkFinishReason.ContentFilter => AiFinishReason.ContentFilter,
        SdkFinishReason.ToolCalls or SdkFinishReason.FunctionCall => AiFinishReason.ToolCalls,
        _ => null,
    };

    /// <summary>What one streamed completion has said so far: tool-call fragments by index, finish reason, usage.</summary>
    private sealed class StreamState
    {
        private readonly SortedDictionary<int, ToolCallParts> calls = [];
        private string? responseId;
        private string? modelId;
        private SdkFinishReason? finish;
        private ChatTokenUsage? usage;

        public bool Yielded { get; set; }

        /// <summary>Records the update's fragments and returns its text, if it carries any.</summary>
        public ChatResponseUpdate? Text(StreamingChatCompletionUpdate update)
        {
            responseId ??= update.CompletionId;
            modelId ??= update.Model;
            finish = update.FinishReason ?? finish;
            usage = update.Usage ?? usage;
            foreach (var fragment in update.ToolCallUpdates)
            {
                if (!calls.TryGetValue(fragment.Index, out var call))
                {
                    calls[fragment.Index] = call = new ToolCallParts();
                }

                call.Id ??= fragment.ToolCallId;
                call.Name ??= fragment.FunctionName;
                if (fragment.FunctionArgumentsUpdate is { } args && !args.IsEmpty)
                {
                    call.Args.Append(args.ToString());
                }
            }

            var text = string.Concat(update.ContentUpdate.Select(p => p.Text));
            return text.Length == 0 ? null : Update(new TextContent(text));
        }

        /// <summary>One update per assembled tool call; arguments that are not JSON leave the parse error on the content.</summary>
        public IEnumerable<ChatResponseUpdate> ToolCalls() => calls.Values.Select(call => Update(FunctionCallContent.CreateFromParsedArguments(
            call.Args.Length == 0 ? "{}" : call.Args.ToString(),
            call.Id ?? $"call_{Guid.NewGuid():N}",
            call.Name ?? "",
            static json => JsonSerializer.Deserialize<Dictionary<string, object?>>(json, AIJsonUtilities.DefaultOptions))));

        public ChatResponseUpdate Final()
        {
            var final = Update(usage is null ? [] : [new UsageContent(new UsageDetails
            {
                InputTokenCount = usage.InputTokenCount,
                OutputTokenCount = usage.OutputTokenCount,
                TotalTokenCount = usage.TotalTokenCount,
            })]);
            final.FinishReason = ToFinishReason(finish) ?? (calls.Count > 0 ? AiFinishReason.ToolCalls : AiFinishReason.Stop);
            return final;
        }

        private ChatResponseUpdate Update(params AIContent[] contents) =>
            new(ChatRole.Assistant, contents) { ResponseId = responseId, MessageId = responseId, ModelId = modelId };
    }

    /// <summary>One streamed tool call: the id and name come once, the arguments in fragments.</summary>
    private sealed class ToolCallParts
    {
        public string? Id { get; set; }

        public string? Name { get; set; }

        public System.Text.StringBuilder Args { get; } = new();
    }
}
