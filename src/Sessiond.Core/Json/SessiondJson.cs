using System.Text.Json;
using Sessiond.Core.Events;

namespace Sessiond.Core.Json;

/// <summary>The one place that turns domain types into JSON and back, for stores and surfaces alike.</summary>
public static class SessiondJson
{
    /// <summary>The default context, for trusted JSON (what the stores wrote) and for output.</summary>
    public static SessiondJsonContext Default => SessiondJsonContext.Default;

    public static byte[] SerializeEvent(SessionEvent value) =>
        JsonSerializer.SerializeToUtf8Bytes(value, SessiondJsonContext.Default.SessionEvent);

    public static SessionEvent DeserializeEvent(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, SessiondJsonContext.Default.SessionEvent)
        ?? throw new JsonException("A stored event was JSON null.");

    public static byte[] SerializeMap(IReadOnlyDictionary<string, JsonElement> value) =>
        JsonSerializer.SerializeToUtf8Bytes(value, SessiondJsonContext.Default.IReadOnlyDictionaryStringJsonElement);

    public static Dictionary<string, JsonElement> DeserializeMap(ReadOnlySpan<byte> json) =>
        json.IsEmpty
            ? []
            : JsonSerializer.Deserialize(json, SessiondJsonContext.Default.DictionaryStringJsonElement) ?? [];
}
