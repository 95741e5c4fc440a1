using System.Text.Json;
using Sessiond.Core.Events;
using Sessiond.Core.Json;
using Sessiond.Core.Sessions;

namespace Sessiond.Server.Adk;

/// <summary>
/// Writes sessions and events in the shape ADK's Python server produces. ADK's pydantic models forbid unknown
/// fields, so Sessiond's own event fields are dropped or mapped to ADK's (<c>usage</c> to <c>usageMetadata</c>,
/// <c>metadata</c> to <c>customMetadata</c>), <c>seq</c> is omitted, and times are float unix seconds.
/// </summary>
public static class AdkJson
{
    /// <summary>Writes <c>{id, appName, userId, state, events, lastUpdateTime}</c>.</summary>
    public static void WriteSession(Utf8JsonWriter writer, Session session, IReadOnlyList<StoredEvent> events)
    {
        writer.WriteStartObject();
        writer.WriteString("id", session.Id);
        writer.WriteString("appName", session.AppName);
        writer.WriteString("userId", session.UserId);
        writer.WritePropertyName("state");
        JsonSerializer.Serialize(writer, session.State, SessiondJsonContext.Default.IReadOnlyDictionaryStringJsonElement);
        writer.WriteStartArray("events");
        foreach (var stored in events)
        {
            WriteEvent(writer, stored.Json);
        }

        writer.WriteEndArray();
        writer.WriteNumber("lastUpdateTime", ToSeconds(session.UpdatedAt));
        writer.WriteEndObject();
    }

    /// <summary>Rewrites one stored event (native JSON) as an ADK event.</summary>
    public static void WriteEvent(Utf8JsonWriter writer, ReadOnlySpan<byte> storedJson)
    {
        var reader = new Utf8JsonReader(storedJson);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        writer.WriteStartObject();
        foreach (var property in root.EnumerateObject())
        {
            switch (property.Name)
            {
                case "seq":
                    break;
                case "usage":
                    if (!root.TryGetProperty("usageMetadata", out _))
                    {
                        WriteUsageMetadata(writer, property.Value);
                    }

                    break;
                case "metadata":
                    if (!root.TryGetProperty("customMetadata", out _))
                    {
                        writer.WritePropertyName("customMetadata");
                        property.Value.WriteTo(writer);
                    }

                    break;
                case "timestamp":
                    writer.WriteNumber("timestamp", ToSeconds(property.Value.GetDateTimeOffset()));
                    break;
                case "actions":
                    writer.WriteStartObject("actions");
                    foreach (var action in property.Value.EnumerateObject())
                    {
                        if (action.Name != "requestedInput")
                        {
                            action.WriteTo(writer);
                        }
                    }

                    writer.WriteEndObject();
                    break;
                default:
                    property.WriteTo(writer);
                    break;
            }
        }

        writer.WriteEndObject();
    }

    public static double ToSeconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds() / 1000.0;

    private static void WriteUsageMetadata(Utf8JsonWriter writer, JsonElement usage)
    {
        var input = usage.TryGetProperty("inputTokens", out var i) ? i.GetInt64() : 0;
        var output = usage.TryGetProperty("outputTokens", out var o) ? o.GetInt64() : 0;
        writer.WriteStartObject("usageMetadata");
        writer.WriteNumber("promptTokenCount", input);
        writer.WriteNumber("candidatesTokenCount", output);
        writer.WriteNumber("totalTokenCount", input + output);
        writer.WriteEndObject();
    }
}
