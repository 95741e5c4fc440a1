using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;
using Sessiond.Core.Access;
using Sessiond.Core.Sessions;

namespace Sessiond.Server.Streams;

/// <summary>
/// Writes one SSE response: a replay from the store after the client's cursor, then the live tail from a
/// subscription taken before the replay began, so nothing committed in between is missed. Frames at or below the
/// cursor are skipped (no duplicate at the seam); a gap, or frames dropped while the client was slow, sends the pump
/// back to the store (no gap). The subscription's queue is bounded, so a slow client costs the server no more memory.
/// </summary>
public sealed class StreamPump(HttpContext context, StreamSubscription subscription, CancellationToken cancellationToken)
{
    /// <summary>Rows read from the store per catch-up query.</summary>
    public const int CatchUpPageSize = 1000;

    private readonly PipeWriter _body = context.Response.BodyWriter;

    /// <summary>Sends the SSE response headers.</summary>
    public async Task StartAsync()
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await _body.FlushAsync(cancellationToken);
    }

    /// <summary>Streams a session's events after <paramref name="cursor"/>, then its live frames, until it is deleted or the client leaves.</summary>
    public async Task RunSessionAsync(Caller caller, string sessionId, long cursor, SessionService sessions)
    {
        async Task<long> CatchUpAsync(long from)
        {
            while (true)
            {
                var page = await sessions.ReadCommittedAsync(sessionId, from, CatchUpPageSize, cancellationToken);
                foreach (var stored in page)
                {
                    SseFrames.WriteEvent(_body, stored.Seq, stored.Json);
                    from = stored.Seq;
                }

                if (page.Count < CatchUpPageSize || await FlushAsync())
                {
                    return from;
                }
            }
        }

        async Task<bool> ResyncAsync()
        {
            // Frames were dropped: events come back from the store, status and deletion from a fresh read.
            cursor = await CatchUpAsync(cursor);
            var current = await sessions.FindAsync(caller, sessionId, cancellationToken);
            _body.Write((current is null ? StreamHub.EndFrame : StreamHub.StatusFrame(current.Status)).Bytes);
            return current is null;
        }

        if (await ResyncAsync())
        {
            await FlushAsync();
            return;
        }

        while (true)
        {
            while (subscription.Frames.TryRead(out var frame))
            {
                if (frame.Kind == FrameKind.Event)
                {
                    if (frame.Position <= cursor)
                    {
                        continue;
                    }

                    if (frame.Position > cursor + 1)
                    {
                        cursor = await CatchUpAsync(cursor);

                        // Still a gap: the store no longer has the events, so the session was deleted and its end
                        // frame (or, if that was dropped too, the lagging resync) closes the stream.
                        if (frame.Position != cursor + 1)
                        {
                            continue;
                        }
                    }

                    cursor = frame.Position;
                }

                _body.Write(frame.Bytes);
                if (frame.Kind == FrameKind.End)
                {
                    await FlushAsync();
                    return;
                }
            }

            if (subscription.TakeLagging())
            {
                if (await ResyncAsync())
                {
                    await FlushAsync();
                    return;
                }

                continue;
            }

            if (await FlushAsync() || !await subscription.Frames.WaitToReadAsync(cancellationToken))
            {
                return;
            }
        }
    }

    /// <summary>Streams a user's feed notices after the feed id <paramref name="cursor"/>, then the live ones.</summary>
    public async Task RunFeedAsync(Caller caller, string appName, string userId, long cursor, SessionService sessions)
    {
        async Task<long> CatchUpAsync(long from)
        {
            while (true)
            {
                var page = await sessions.ReadFeedAsync(caller, appName, userId, from, CatchUpPageSize, cancellationToken);
                foreach (var notice in page)
                {
                    _body.Write(StreamHub.NoticeFrame(notice).Bytes);
                    from = notice.Id;
                }

                if (page.Count < CatchUpPageSize || await FlushAsync())
                {
                    return from;
                }
            }
        }

        cursor = await CatchUpAsync(cursor);
        while (true)
        {
            while (subscription.Frames.TryRead(out var frame))
            {
                // Feed ids are shared by all users, so only order (not +1) can be checked; the catch-up covers drops.
                if (frame.Kind == FrameKind.Notice)
                {
                    if (frame.Position <= cursor)
                    {
                        continue;
                    }

                    cursor = frame.Position;
                }

                _body.Write(frame.Bytes);
            }

            if (subscription.TakeLagging())
            {
                cursor = await CatchUpAsync(cursor);
                continue;
            }

            if (await FlushAsync() || !await subscription.Frames.WaitToReadAsync(cancellationToken))
            {
                return;
            }
        }
    }

    /// <summary>Flushes; true when the client has gone.</summary>
    private async ValueTask<bool> FlushAsync() => (await _body.FlushAsync(cancellationToken)).IsCompleted;
}
