using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Sessiond.Core.Errors;
using Sessiond.Core.Json;
using Sessiond.Core.Sessions;
using Sessiond.Server.Auth;
using Sessiond.Server.Http;

namespace Sessiond.Server.Native;

/// <summary>The native session routes under <c>/v1/sessions</c>: sessions and their events.</summary>
public static class NativeSessionsApi
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/sessions");
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapPatch("/{id}", UpdateAsync);
        group.MapDelete("/{id}", DeleteAsync);
        group.MapPost("/{id}/events", AppendAsync);
        group.MapGet("/{id}/events", ReadEventsAsync);
    }

    public static async Task<Created<Session>> CreateAsync(HttpRequest request, SessionService sessions)
    {
        var command = await JsonBody.ReadAsync(request, SessiondJsonContext.Default.CreateSessionCommand);
        var session = await sessions.CreateAsync(request.HttpContext.Caller(), command, request.HttpContext.RequestAborted);
        return TypedResults.Created($"/v1/sessions/{Uri.EscapeDataString(session.Id)}", session);
    }

    public static async Task<Ok<SessionListResponse>> ListAsync(HttpRequest request, SessionService sessions)
    {
        var query = new SessionQuery
        {
            AppName = QueryParameters.String(request, "appName"),
            UserId = QueryParameters.String(request, "userId"),
            TeamId = QueryParameters.String(request, "teamId"),
            Scope = QueryParameters.String(request, "scope"),
            Status = QueryParameters.String(request, "status"),
            Starred = QueryParameters.Bool(request, "starred"),
            Limit = QueryParameters.Int(request, "limit") ?? sessions.Limits.DefaultPageSize,
            After = QueryParameters.String(request, "cursor") is { } cursor ? SessionCursor.Decode(cursor) : null,
        };
        var page = await sessions.ListAsync(request.HttpContext.Caller(), query, request.HttpContext.RequestAborted);
        return TypedResults.Ok(new SessionListResponse(page.Sessions, page.Next?.Encode()));
    }

    public static async Task<SessionWithEventsResult> GetAsync(string id, HttpRequest request, SessionService sessions)
    {
        var selection = QueryParameters.String(request, "events") switch
        {
            null or "all" => EventSelection.All,
            "none" => EventSelection.None,
            "recent" => EventSelection.Recent,
            _ => throw SessionErrors.Invalid("Query parameter 'events' must be 'all', 'none' or 'recent'."),
        };
        var result = await sessions.GetAsync(
            request.HttpContext.Caller(), id, selection, QueryParameters.Int(request, "limit"), QueryParameters.Long(request, "afterSeq"),
            request.HttpContext.RequestAborted);
        return new SessionWithEventsResult(result.Session, result.Pages, result.NextAfterSeq);
    }

    public static async Task<Ok<Session>> UpdateAsync(string id, HttpRequest request, SessionService sessions)
    {
        var command = await JsonBody.ReadAsync(request, SessiondJsonContext.Default.UpdateSessionCommand);
        return TypedResults.Ok(await sessions.UpdateAsync(request.HttpContext.Caller(), id, command, request.HttpContext.RequestAborted));
    }

    public static async Task<NoContent> DeleteAsync(string id, HttpRequest request, SessionService sessions)
    {
        await sessions.DeleteAsync(request.HttpContext.Caller(), id, request.HttpContext.RequestAborted);
        return TypedResults.NoContent();
    }

    public static async Task<IResult> AppendAsync(
        string id,
        HttpRequest request,
        SessionService sessions,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        [FromHeader(Name = "If-Match")] string? ifMatch)
    {
        var command = await JsonBody.ReadAsync(request, SessiondJsonContext.Default.AppendEventsCommand);
        if (ParseIfMatch(ifMatch) is { } expected)
        {
            if (command.ExpectedLastSeq is { } inBody && inBody != expected)
            {
                throw SessionErrors.Invalid("'If-Match' and 'expectedLastSeq' disagree.");
            }

            command = command with { ExpectedLastSeq = expected };
        }

        if (command.HasPartialEvents)
        {
            var partials = await sessions.BroadcastPartialAsync(request.HttpContext.Caller(), id, command, request.HttpContext.RequestAborted);
            return TypedResults.Accepted((string?)null, new PartialEventsResponse(partials));
        }

        var result = await sessions.AppendAsync(request.HttpContext.Caller(), id, command, idempotencyKey, request.HttpContext.RequestAborted);
        var body = new AppendEventsResponse(result.Events, result.LastSeq);
        if (result.Replayed)
        {
            request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
        }

        return TypedResults.Created($"/v1/sessions/{Uri.EscapeDataString(id)}/events?afterSeq={result.Events[0].Seq - 1}", body);
    }

    public static async Task<Ok<EventsResponse>> ReadEventsAsync(string id, HttpRequest request, SessionService sessions)
    {
        var page = await sessions.ReadEventsAsync(
            request.HttpContext.Caller(), id, QueryParameters.Long(request, "afterSeq"), QueryParameters.Int(request, "limit"), request.HttpContext.RequestAborted);
        return TypedResults.Ok(new EventsResponse(page.Events, page.NextAfterSeq));
    }

    /// <summary>Reads <c>If-Match: "7"</c> (or <c>7</c>, or <c>W/"7"</c>) as the expected last seq.</summary>
    private static long? ParseIfMatch(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var text = value.Trim();
        if (text.StartsWith("W/", StringComparison.Ordinal))
        {
            text = text[2..];
        }

        text = text.Trim('"');
        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seq)
            ? seq
            : throw SessionErrors.Invalid("'If-Match' must be the expected last seq, such as \"7\".");
    }
}
