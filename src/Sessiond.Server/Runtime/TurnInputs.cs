using System.Text.Json;
using Sessiond.Core.Errors;
using Sessiond.Core.Json;
using Sessiond.Runtime.Turns;

namespace Sessiond.Server.Runtime;

/// <summary>Reads the <c>input</c> of turn, steer and follow-up requests: text, a list of parts, or a content object.</summary>
public static class TurnInputs
{
    public static TurnInput Parse(JsonElement? input)
    {
        switch (input)
        {
            case { ValueKind: JsonValueKind.String } text when text.GetString() is { Length: > 0 } value:
                return TurnInput.FromText(value);
            case { ValueKind: JsonValueKind.Array } parts:
                return FromParts(parts);
            case { ValueKind: JsonValueKind.Object } content when content.TryGetProperty("parts", out var parts) && parts.ValueKind == JsonValueKind.Array:
                return FromParts(parts);
            default:
                throw SessionErrors.Invalid("'input' must be non-empty text, a list of parts, or an object with 'parts'.");
        }
    }

    private static TurnInput FromParts(JsonElement parts)
    {
        try
        {
            var list = parts.Deserialize(SessiondJsonContext.Default.ListEventPart);
            if (list is { Count: > 0 } && list.All(p => p is not null))
            {
                return new TurnInput(list);
            }
        }
        catch (JsonException)
        {
        }

        throw SessionErrors.Invalid("'input' parts must be objects such as {\"text\": \"...\"}.");
    }
}
