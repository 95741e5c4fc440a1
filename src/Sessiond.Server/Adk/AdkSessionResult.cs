using System.Text.Json;
using Sessiond.Core.Events;
using Sessiond.Core.Sessions;

namespace Sessiond.Server.Adk;

/// <summary>Writes one ADK session, or a JSON array of them, straight to the response body.</summary>
public sealed class AdkSessionResult : IResult
{
    private readonly IReadOnlyList<(Session Session, IAsyncEnumerable<IReadOnlyList<StoredEvent>>? Pages)> _sessions;
    private readonly bool _asArray;

    private AdkSessionResult(IReadOnlyList<(Session, IAsyncEnumerable<IReadOnlyList<StoredEvent>>?)> sessions, bool asArray)
    {
        _sessions = sessions;
        _asArray = asArray;
    }

    /// <summary>One session with the events <paramref name="pages"/> yields (none when null).</summary>
    public static AdkSessionResult One(Session session, IAsyncEnumerable<IReadOnlyList<StoredEvent>>? pages) => new([(session, pages)], asArray: false);

    /// <summary>A JSON array of sessions without events.</summary>
    public static AdkSessionResult Many(IEnumerable<Session> sessions) => new([.. sessions.Select(s => (s, (IAsyncEnumerable<IReadOnlyList<StoredEvent>>?)null))], asArray: true);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var cancellationToken = httpContext.RequestAborted;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
        if (_asArray)
        {
            writer.WriteStartArray();
        }

        foreach (var (session, pages) in _sessions)
        {
            await AdkJson.WriteSessionAsync(writer, session, pages, cancellationToken);
            if (writer.BytesPending > 64 * 1024)
            {
                await writer.FlushAsync(cancellationToken);
            }
        }

        if (_asArray)
        {
            writer.WriteEndArray();
        }

        await writer.FlushAsync(cancellationToken);
    }
}
