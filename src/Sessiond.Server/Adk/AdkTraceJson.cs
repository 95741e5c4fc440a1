using System.Globalization;
using System.Text.Json;
using Sessiond.Runtime.Turns;

namespace Sessiond.Server.Adk;

/// <summary>
/// Writes trace spans as ADK's server lists them from OpenTelemetry: <c>[{name, span_id, trace_id, start_time,
/// end_time, attributes, parent_span_id}]</c>, with ids as integers and times as nanoseconds since the Unix epoch.
/// </summary>
public static class AdkTraceJson
{
    public static void WriteSpans(Utf8JsonWriter writer, string sessionId, IReadOnlyList<TraceSpan> spans)
    {
        // ADK's spans carry the session and invocation on every span; Sessiond records the invocation on the turn's span.
        var invocations = spans.Where(s => s.ParentSpanId is null && s.Attributes.ContainsKey("invocation_id"))
            .GroupBy(s => s.TraceId).ToDictionary(g => g.Key, g => g.First().Attributes["invocation_id"]);
        writer.WriteStartArray();
        foreach (var span in spans)
        {
            writer.WriteStartObject();
            writer.WriteString("name", span.Name);
            WriteId(writer, "span_id", span.SpanId);
            WriteId(writer, "trace_id", span.TraceId);
            writer.WriteNumber("start_time", Nanoseconds(span.Start));
            writer.WriteNumber("end_time", Nanoseconds(span.End));
            writer.WriteStartObject("attributes");
            foreach (var (key, value) in span.Attributes)
            {
                writer.WriteString(key, value);
            }

            writer.WriteString("gcp.vertex.agent.session_id", sessionId);
            if (invocations.TryGetValue(span.TraceId, out var invocationId))
            {
                writer.WriteString("gcp.vertex.agent.invocation_id", invocationId);
            }

            writer.WriteEndObject();
            if (span.ParentSpanId is null)
            {
                writer.WriteNull("parent_span_id");
            }
            else
            {
                WriteId(writer, "parent_span_id", span.ParentSpanId);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    public static long Nanoseconds(DateTimeOffset time) => (time - DateTimeOffset.UnixEpoch).Ticks * 100;

    /// <summary>OpenTelemetry ids are integers in ADK's answer; Sessiond records them as hex, so they are written as the same number.</summary>
    private static void WriteId(Utf8JsonWriter writer, string name, string hex)
    {
        if (UInt128.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            writer.WritePropertyName(name);
            writer.WriteRawValue(value.ToString(CultureInfo.InvariantCulture), skipInputValidation: true);
        }
        else
        {
            writer.WriteString(name, hex);
        }
    }
}
