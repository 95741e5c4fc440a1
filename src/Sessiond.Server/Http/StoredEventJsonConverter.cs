using System.Text.Json;
using System.Text.Json.Serialization;
using Sessiond.Core.Events;

namespace Sessiond.Server.Http;

/// <summary>Writes a stored event's JSON as it is, so the native surface never re-serialises an event.</summary>
public sealed class StoredEventJsonConverter : JsonConverter<StoredEvent>
{
    public override StoredEvent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("Stored events are output only.");

    public override void Write(Utf8JsonWriter writer, StoredEvent value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Json, skipInputValidation: true);
}
