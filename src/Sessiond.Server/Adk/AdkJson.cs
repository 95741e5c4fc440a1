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
    /// <summary>
    /// Writes <c>{id, appName, userId, state, events, lastUpdateTime}</c>, flushing after each page of events so a
    /// long history streams out instead of piling up.
    /// </summary>
    public static async Task WriteSessionAsync(
        Utf8JsonWriter writer, Session session, IAsyncEnumerable<IReadOnlyList<StoredEvent>>? pages, CancellationToken cancellationToken)
    {
        writer.WriteStartObject();
        writer.WriteString("id", session.Id);
        writer.WriteString("appName", session.AppName);
        writer.WriteString("userId", session.UserId);
        WriteState(writer, session);
        writer.WriteStartArray("events");
        if (pages is not null)
        {
            await foreach (var page in pages.WithCancellation(cancellationToken))
            {
                foreach (var stored in page)
                {
                    WriteEvent(writer, stored.Json);
                }

                await writer.FlushAsync(cancellationToken);
            }
        }

        writer.WriteEndArray();
        writer.WriteNumber("lastUpdateTime", ToSeconds(session.UpdatedAt));
        writer.WriteEndObject();
    }

    /// <summary>The ADK web UI's key for a session's label: <c>state.__session_metadata__.displayName</c>.</summary>
    public const string SessionMetadataKey = "__session_metadata__";

    /// <summary>
    /// Writes the session's state. A session with a title and no <see cref="SessionMetadataKey"/> of its own shows the
    /// title as its <c>displayName</c>, so the ADK web UI labels it; this is a view of the title, never stored as state.
    /// </summary>
    private static void WriteState(Utf8JsonWriter writer, Session session)
    {
        writer.WritePropertyName("state");
        if (session.Title is null || session.State.ContainsKey(SessionMetadataKey))
        {
            JsonSerializer.Serialize(writer, session.State, SessiondJsonContext.Default.IReadOnlyDictionaryStringJsonElement);
            return;
        }

        writer.WriteStartObject();
        foreach (var (key, value) in session.State)
        {
            writer.WritePropertyName(key);
            value.WriteTo(writer);
        }

        writer.WriteStartObject(SessionMetadataKey);
        writer.WriteString("displayName", session.Title);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>
    /// Rewrites one stored event (native JSON) as an ADK event in one forward pass: values are copied as raw bytes and
    /// only the few members ADK names differently are decoded, because a session read may carry thousands of events.
    /// </summary>
    public static void WriteEvent(Utf8JsonWriter writer, ReadOnlySpan<byte> storedJson)
    {
        var (hasUsageMetadata, hasCustomMetadata) = (HasMember(storedJson, "usageMetadata"u8), HasMember(storedJson, "customMetadata"u8));
        var reader = new Utf8JsonReader(storedJson);
        reader.Read();
        writer.WriteStartObject();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("seq"u8))
            {
                SkipValue(ref reader);
            }
            else if (reader.ValueTextEquals("timestamp"u8))
            {
                reader.Read();
                writer.WriteNumber("timestamp", ToSeconds(reader.GetDateTimeOffset()));
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                var usage = JsonSerializer.Deserialize(ref reader, SessiondJson.Default.EventUsage);
                if (!hasUsageMetadata && usage is not null)
                {
                    writer.WriteStartObject("usageMetadata");
                    writer.WriteNumber("promptTokenCount", usage.InputTokens);
                    writer.WriteNumber("candidatesTokenCount", usage.OutputTokens);
                    writer.WriteNumber("totalTokenCount", usage.InputTokens + usage.OutputTokens);
                    writer.WriteEndObject();
                }
            }
            else if (reader.ValueTextEquals("metadata"u8) && hasCustomMetadata)
            {
                SkipValue(ref reader);
            }
            else if (reader.ValueTextEquals("actions"u8))
            {
                // Only requestedInput is Sessiond's own; ADK's EventActions forbids it.
                writer.WritePropertyName("actions");
                reader.Read();
                writer.WriteStartObject();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("requestedInput"u8))
                    {
                        SkipValue(ref reader);
                    }
                    else
                    {
                        CopyMember(ref reader, writer, storedJson, rename: null);
                    }
                }

                writer.WriteEndObject();
            }
            else
            {
                CopyMember(ref reader, writer, storedJson, rename: reader.ValueTextEquals("metadata"u8) ? "customMetadata" : null);
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>Copies the member at the reader's property name, its value as raw bytes.</summary>
    private static void CopyMember(ref Utf8JsonReader reader, Utf8JsonWriter writer, ReadOnlySpan<byte> json, string? rename)
    {
        if (rename is not null)
        {
            writer.WritePropertyName(rename);
        }
        else if (reader.ValueIsEscaped)
        {
            writer.WritePropertyName(reader.GetString()!);
        }
        else
        {
            writer.WritePropertyName(reader.ValueSpan);
        }

        reader.Read();
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        writer.WriteRawValue(json[start..(int)reader.BytesConsumed], skipInputValidation: true);
    }

    private static void SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }

    /// <summary>Whether the event object has a top-level member named <paramref name="name"/>.</summary>
    private static bool HasMember(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name)
    {
        if (json.IndexOf(name) < 0)
        {
            return false;
        }

        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name))
            {
                return true;
            }

            SkipValue(ref reader);
        }

        return false;
    }

    public static double ToSeconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds() / 1000.0;
}
