using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sessiond.Core.Json;

/// <summary>
/// Writes timestamps as UTC ISO 8601 with milliseconds and a <c>Z</c> (<c>2026-11-21T10:00:00.123Z</c>).
/// Reads any ISO 8601 string, and also a number of unix seconds, which is how ADK clients send event timestamps.
/// </summary>
public sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var value))
        {
            return value.ToUniversalTime();
        }

        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var seconds)
            && seconds is >= 0 and < 253_402_300_800) // year 10000
        {
            return DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000));
        }

        throw new JsonException("A timestamp must be an ISO 8601 string or unix seconds.");
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        Span<char> buffer = stackalloc char[24];
        value.UtcDateTime.TryFormat(buffer, out var written, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        writer.WriteStringValue(buffer[..written]);
    }
}
