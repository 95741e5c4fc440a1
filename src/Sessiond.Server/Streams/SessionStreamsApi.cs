using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Sessiond.Core.Errors;
using Sessiond.Core.Sessions;
using Sessiond.Server.Auth;
using Sessiond.Server.Http;

namespace Sessiond.Server.Streams;

/// <summary>Live SSE streams: a session's events (<c>/v1/sessions/{id}/stream</c>) and a user's session feed (<c>/v1/stream</c>).</summary>
public static class SessionStreamsApi
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/sessions/{id}/stream", StreamSessionAsync);
        routes.MapGet("/v1/sessions/{id}/snapshot", SnapshotAsync);
        routes.MapGet("/v1/stream", StreamFeedAsync);
    }

    /// <summary>
    /// Replays the session's events after <c>Last-Event-ID</c> (or <c>?after=</c>), then tails it live: <c>event: event</c>
    /// frames with <c>id: seq</c>, <c>event: delta</c>, <c>event: status</c>, <c>: ping</c>, and <c>event: end</c> on deletion.
    /// </summary>
    public static async Task StreamSessionAsync(
        string id, HttpContext context, SessionService sessions, StreamHub hub, IHostApplicationLifetime lifetime)
    {
        var cursor = ResumeCursor(context.Request);
        // Subscribe before the existence check and the replay: a delete or an append after this point reaches the subscription.
        var caller = context.Caller();
        using var subscription = hub.SubscribeSession(id);
        await sessions.RequireSessionAsync(caller, id, context.RequestAborted);
        await RunAsync(context, subscription, lifetime, pump => pump.RunSessionAsync(caller, id, cursor, sessions));
    }

    /// <summary>A user's notices (<c>created</c>, <c>updated</c>, <c>deleted</c>, <c>status</c>) for one app, resumable by feed id.</summary>
    public static async Task StreamFeedAsync(HttpContext context, SessionService sessions, StreamHub hub, IHostApplicationLifetime lifetime)
    {
        var appName = QueryParameters.String(context.Request, "appName") ?? throw SessionErrors.Invalid("Query parameter 'appName' is required.");
        var userId = QueryParameters.String(context.Request, "userId") ?? throw SessionErrors.Invalid("Query parameter 'userId' is required.");
        var cursor = ResumeCursor(context.Request);
        var caller = context.Caller();
        sessions.RequireUserScope(caller, appName, userId);
        using var subscription = hub.SubscribeUser(appName, userId);
        await RunAsync(context, subscription, lifetime, pump => pump.RunFeedAsync(caller, appName, userId, cursor, sessions));
    }

    /// <summary>The session, its last seq and status: stream with <c>?after=lastSeq</c> to miss nothing.</summary>
    public static async Task<Ok<SnapshotResponse>> SnapshotAsync(string id, HttpContext context, SessionService sessions)
    {
        var session = await sessions.RequireSessionAsync(context.Caller(), id, context.RequestAborted);
        return TypedResults.Ok(new SnapshotResponse(session, session.LastSeq, session.Status));
    }

    private static async Task RunAsync(
        HttpContext context, StreamSubscription subscription, IHostApplicationLifetime lifetime, Func<StreamPump, Task> run)
    {
        // A stream ends when the client leaves or the server stops; clients resume with Last-Event-ID.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var pump = new StreamPump(context, subscription, stop.Token);
        try
        {
            await pump.StartAsync();
            await run(pump);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The client hung up or the server is stopping: not an error.
        }
    }

    /// <summary><c>Last-Event-ID</c> wins over <c>?after=</c>, because a reconnecting EventSource repeats the original URL.</summary>
    private static long ResumeCursor(HttpRequest request)
    {
        if (request.Headers["Last-Event-ID"] is { Count: > 0 } header && !string.IsNullOrWhiteSpace(header[0]))
        {
            return long.TryParse(header[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                ? id
                : throw SessionErrors.Invalid("'Last-Event-ID' must be a non-negative whole number.");
        }

        return QueryParameters.Long(request, "after") ?? 0;
    }
}

/// <summary><c>GET /v1/sessions/{id}/snapshot</c>.</summary>
public sealed record SnapshotResponse(Session Session, long LastSeq, string Status);
