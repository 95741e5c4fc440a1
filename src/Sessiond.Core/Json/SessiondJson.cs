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

    /// <summary>
    /// An event's JSON as <see cref="SerializeEvent"/> writes it once its <see cref="SessionEvent.Seq"/> is set, made from
    /// its JSON without one (seq 0 is not written): <c>seq</c> is the first property, so it is spliced in after the brace.
    /// A store serializes each event before it knows the seq, off its single writer, and splices the seq in at commit.
    /// </summary>
    public static byte[] WithSeq(ReadOnlySpan<byte> unsequencedEvent, long seq)
    {
        if (unsequencedEvent.Length < 2 || unsequencedEvent[0] != (byte)'{')
        {
            throw new ArgumentException("Expected the JSON object of an event without its seq.", nameof(unsequencedEvent));
        }

        Span<byte> prefix = stackalloc byte[32];
        "{\"seq\":"u8.CopyTo(prefix);
        System.Buffers.Text.Utf8Formatter.TryFormat(seq, prefix[7..], out var digits);
        var length = 7 + digits;
        var rest = unsequencedEvent[1..];
        var empty = rest.Length == 1;
        if (!empty)
        {
            prefix[length++] = (byte)',';
        }

        var json = new byte[length + rest.Length];
        prefix[..length].CopyTo(json);
        rest.CopyTo(json.AsSpan(length));
        return json;
    }

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
