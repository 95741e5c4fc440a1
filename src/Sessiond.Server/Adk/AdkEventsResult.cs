using System.Text.Json;
using Sessiond.Core.Events;

namespace Sessiond.Server.Adk;

/// <summary>A JSON array of stored events in ADK's shape, as <c>POST /run</c> answers.</summary>
public sealed class AdkEventsResult(IReadOnlyList<StoredEvent> events) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
        writer.WriteStartArray();
        foreach (var stored in events)
        {
            AdkJson.WriteEvent(writer, stored.Json);
        }

        writer.WriteEndArray();
        await writer.FlushAsync(httpContext.RequestAborted);
    }
}
