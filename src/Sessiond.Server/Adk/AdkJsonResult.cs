using System.Text.Json;

namespace Sessiond.Server.Adk;

/// <summary>A JSON answer written by hand, for ADK shapes (snake_case keys, maps keyed by path) no record describes.</summary>
public sealed class AdkJsonResult(Action<Utf8JsonWriter> write) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
        write(writer);
        await writer.FlushAsync(httpContext.RequestAborted);
    }
}
