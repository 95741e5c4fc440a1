using System.Text.Json;
using Sessiond.Core.Events;
using Sessiond.Core.Sessions;

namespace Sessiond.Server.Adk;

/// <summary>Writes one ADK session, or a JSON array of them, straight to the response body.</summary>
public sealed class AdkSessionResult : IResult
{
    private readonly IReadOnlyList<(Session Session, IReadOnlyList<StoredEvent> Events)> _sessions;
    private readonly bool _asArray;

    private AdkSessionResult(IReadOnlyList<(Session, IReadOnlyList<StoredEvent>)> sessions, bool asArray)
    {
        _sessions = sessions;
        _asArray = asArray;
    }

    public static AdkSessionResult One(Session session, IReadOnlyList<StoredEvent> events) => new([(session, events)], asArray: false);

    public static AdkSessionResult Many(IEnumerable<Session> sessions) => new([.. sessions.Select(s => (s, (IReadOnlyList<StoredEvent>)[]))], asArray: true);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
        if (_asArray)
        {
            writer.WriteStartArray();
        }

        foreach (var (session, events) in _sessions)
        {
            AdkJson.WriteSession(writer, session, events);
            if (writer.BytesPending > 64 * 1024)
            {
                await writer.FlushAsync(httpContext.RequestAborted);
            }
        }

        if (_asArray)
        {
            writer.WriteEndArray();
        }

        await writer.FlushAsync(httpContext.RequestAborted);
    }
}
