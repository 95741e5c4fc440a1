using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Sessiond.Core.Events;
using Sessiond.Core.Json;
using Sessiond.Core.Sessions;

namespace Sessiond.Server.Native;

/// <summary>
/// Writes a native session with its events: the session's own JSON, then the stored event JSON as it is,
/// a page at a time, flushed as it goes, so a long history never sits in memory at once.
/// </summary>
public sealed class SessionWithEventsResult(Session session, IAsyncEnumerable<IReadOnlyList<StoredEvent>> pages, long? nextAfterSeq) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.ContentType = "application/json; charset=utf-8";
        var body = response.BodyWriter;

        // The session serialises to one JSON object ending in '}'; its members are written first, then the events
        // are appended as further members, so the session's shape is defined once (by SessiondJsonContext).
        var sessionJson = JsonSerializer.SerializeToUtf8Bytes(session, SessiondJsonContext.Default.Session);
        body.Write(sessionJson.AsSpan(0, sessionJson.Length - 1));
        body.Write(""","events":["""u8);
        var first = true;
        await foreach (var page in pages.WithCancellation(httpContext.RequestAborted))
        {
            foreach (var stored in page)
            {
                if (!first)
                {
                    body.Write(","u8);
                }

                first = false;
                body.Write(stored.Json);
            }

            await body.FlushAsync(httpContext.RequestAborted);
        }

        body.Write("]"u8);
        if (nextAfterSeq is { } next)
        {
            body.Write(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $",\"nextAfterSeq\":{next}")));
        }

        body.Write("}"u8);
        await body.FlushAsync(httpContext.RequestAborted);
    }
}
