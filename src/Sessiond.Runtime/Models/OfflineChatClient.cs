using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Sessiond.Runtime.Agents;

namespace Sessiond.Runtime.Models;

/// <summary>
/// The built-in models that need no network: <c>echo</c> repeats the newest user text, and <c>scripted</c> plays the
/// model's script, one step per model call of a turn. Both stream their text word by word and report usage as word
/// counts, so demos and tests see the same shapes as from a real model.
/// </summary>
public sealed class OfflineChatClient(ModelDefinition model, TimeProvider time) : IChatClient
{
    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var history = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        var step = model.Provider == "scripted" ? ScriptStepAt(ModelOptions.StepOf(options)) : null;
        if (step?.Error is { } error)
        {
            throw new ModelException(error, $"The scripted model '{model.Name}' failed with '{error}' as its script says.");
        }

        var text = step is null ? LastUserText(history) : step.Text ?? "";
        var words = Words(text);
        foreach (var word in words)
        {
            if (model.ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(model.ChunkDelay, time, cancellationToken);
            }

            cancellationToken.ThrowIfCancellationRequested();
            yield return new ChatResponseUpdate(ChatRole.Assistant, word);
        }

        var calls = step?.ToolCalls ?? [];
        for (var i = 0; i < calls.Count; i++)
        {
            var args = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, object?>>(calls[i].ArgsJson);
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new FunctionCallContent($"call_{Guid.NewGuid():N}", calls[i].Name, args)]);
        }

        var input = history.Sum(m => Words(m.Text).Count);
        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(new UsageDetails
        {
            InputTokenCount = input,
            OutputTokenCount = words.Count,
            TotalTokenCount = input + words.Count,
        })])
        { FinishReason = calls.Count > 0 ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop };
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    /// <summary>The step for a model call; past the end of the script, the last step's text without its tool calls.</summary>
    private ScriptStep ScriptStepAt(int index) =>
        index < model.Script.Count ? model.Script[index] : model.Script[^1] with { ToolCalls = [], Error = null };

    private static string LastUserText(IReadOnlyList<ChatMessage> history) =>
        history.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? "";

    /// <summary>Splits text into chunks that each keep their trailing space, so the chunks concatenate to the text.</summary>
    private static List<string> Words(string text)
    {
        var words = new List<string>();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == ' ' && (i + 1 == text.Length || text[i + 1] != ' '))
            {
                words.Add(text[start..(i + 1)]);
                start = i + 1;
            }
        }

        if (start < text.Length)
        {
            words.Add(text[start..]);
        }

        return words;
    }
}
