using System.Text.Json;
using Microsoft.Extensions.AI;
using Sessiond.Core.Events;

namespace Sessiond.Runtime.Turns;

/// <summary>
/// Builds the model's conversation from a session's stored events: user text, model text and function calls, and
/// function responses. Events without content (answers, confirmation requests, errors) are not part of it.
/// </summary>
public static class PromptBuilder
{
    public static List<ChatMessage> Build(IEnumerable<SessionEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var messages = new List<ChatMessage>();
        foreach (var e in events)
        {
            if (e.Content?.Parts is not { Count: > 0 } parts || e.Partial == true)
            {
                continue;
            }

            var contents = new List<AIContent>();
            var results = new List<AIContent>();
            foreach (var part in parts)
            {
                if (part.Text is { Length: > 0 } text)
                {
                    contents.Add(new TextContent(text));
                }

                if (part.FunctionCall is { Name: { } name } call)
                {
                    contents.Add(new FunctionCallContent(call.Id ?? "", name, Arguments(call.Args)));
                }

                if (part.FunctionResponse is { } response)
                {
                    results.Add(new FunctionResultContent(response.Id ?? "", response.Response ?? default(JsonElement?)));
                }
            }

            if (contents.Count > 0)
            {
                messages.Add(new ChatMessage(e.Content.Role == "model" ? ChatRole.Assistant : ChatRole.User, contents));
            }

            if (results.Count > 0)
            {
                messages.Add(new ChatMessage(ChatRole.Tool, results));
            }
        }

        return messages;
    }

    private static Dictionary<string, object?> Arguments(JsonElement? args)
    {
        var arguments = new Dictionary<string, object?>();
        if (args is { ValueKind: JsonValueKind.Object } obj)
        {
            foreach (var property in obj.EnumerateObject())
            {
                arguments[property.Name] = property.Value.Clone();
            }
        }

        return arguments;
    }
}
