using Sessiond.Core.Access;
using Sessiond.Core.Errors;
using Sessiond.Core.Events;
using Sessiond.Core.Sessions;
using Sessiond.Core.Validation;
using Sessiond.Server.Auth;
using Sessiond.Server.Http;

namespace Sessiond.Server.Adk;

/// <summary>
/// The ADK-compatible session routes, mapped at the root and again under <c>/api</c>, so the ADK web UI and ADK REST
/// clients work unchanged. Sessions are shared with the native surface: both read and write the same store. Runs are in
/// <see cref="AdkRunApi"/>, the UI's other routes in <see cref="AdkDevApi"/>.
/// </summary>
public static class AdkApi
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("").WithSurfaceErrors(AdkErrors.ToResult);
        AdkDevApi.Map(group);
        AdkRunApi.Map(group);
        var sessions = group.MapGroup("/apps/{app}/users/{user}/sessions");
        sessions.MapPost("/", CreateAsync);
        sessions.MapGet("/", ListAsync);
        sessions.MapPost("/{id}", CreateWithIdAsync);
        sessions.MapGet("/{id}", GetAsync);
        sessions.MapPatch("/{id}", UpdateAsync);
        sessions.MapDelete("/{id}", DeleteAsync);
    }

    public static async Task<AdkSessionResult> CreateAsync(string app, string user, HttpRequest request, SessionService sessions)
    {
        var body = await JsonBody.ReadOptionalAsync(request, ServerJsonContext.Default.AdkCreateSessionRequest);
        var caller = request.HttpContext.Caller();
        var session = await sessions.CreateAsync(caller, new CreateSessionCommand
        {
            AppName = app,
            UserId = user,
            Id = body?.SessionId ?? body?.SessionIdSnakeCase,
            State = body?.State,
            Events = body?.Events,
        }, request.HttpContext.RequestAborted);
        return await WithEventsAsync(caller, session, sessions, request.HttpContext.RequestAborted);
    }

    public static async Task<AdkSessionResult> CreateWithIdAsync(
        string app, string user, string id, HttpRequest request, SessionService sessions)
    {
        var state = await JsonBody.ReadOptionalAsync(request, ServerJsonContext.Default.DictionaryStringJsonElement);
        var session = await sessions.CreateAsync(
            request.HttpContext.Caller(), new CreateSessionCommand { AppName = app, UserId = user, Id = id, State = state }, request.HttpContext.RequestAborted);
        return AdkSessionResult.One(session, null);
    }

    public static async Task<AdkSessionResult> ListAsync(string app, string user, HttpContext context, SessionService sessions)
    {
        var (caller, cancellationToken) = (context.Caller(), context.RequestAborted);
        // ADK lists every session of the user at once.
        var all = await sessions.ListAllAsync(
            caller, new SessionQuery { AppName = Ids.Require(app, "appName"), UserId = Ids.Require(user, "userId") }, cancellationToken);
        return AdkSessionResult.Many(all);
    }

    public static async Task<AdkSessionResult> GetAsync(string app, string user, string id, HttpContext context, SessionService sessions)
    {
        var (caller, cancellationToken) = (context.Caller(), context.RequestAborted);
        await RequireOwnedAsync(caller, app, user, id, sessions, cancellationToken);
        var (session, pages) = await sessions.GetWithAllEventsAsync(caller, id, cancellationToken);
        return AdkSessionResult.One(session, pages);
    }

    public static async Task<AdkSessionResult> UpdateAsync(string app, string user, string id, HttpRequest request, SessionService sessions)
    {
        var (caller, cancellationToken) = (request.HttpContext.Caller(), request.HttpContext.RequestAborted);
        await RequireOwnedAsync(caller, app, user, id, sessions, cancellationToken);
        var body = await JsonBody.ReadAsync(request, ServerJsonContext.Default.AdkUpdateSessionRequest);
        var delta = body.StateDelta ?? body.StateDeltaSnakeCase
            ?? throw SessionErrors.Invalid("'stateDelta' is required.");
        var stateEvent = new SessionEvent
        {
            InvocationId = "p-" + Guid.NewGuid().ToString("N"),
            Author = "user",
            Actions = new EventActions { StateDelta = delta },
        };
        await sessions.AppendAsync(caller, id, new AppendEventsCommand { Events = [stateEvent] }, idempotencyKey: null, cancellationToken);
        var (session, pages) = await sessions.GetWithAllEventsAsync(caller, id, cancellationToken);
        return AdkSessionResult.One(session, pages);
    }

    /// <summary>Deletes like ADK: 200 with <c>null</c>, also when there was nothing (of this app and user) to delete.</summary>
    public static async Task<IResult> DeleteAsync(string app, string user, string id, HttpContext context, SessionService sessions)
    {
        var (caller, cancellationToken) = (context.Caller(), context.RequestAborted);
        if (await FindOwnedAsync(caller, app, user, id, sessions, cancellationToken) is not null)
        {
            await sessions.DeleteAsync(caller, id, cancellationToken);
        }

        return TypedResults.Content("null", "application/json");
    }

    private static async Task<AdkSessionResult> WithEventsAsync(
        Caller caller, Session session, SessionService sessions, CancellationToken cancellationToken)
    {
        if (session.LastSeq == 0)
        {
            return AdkSessionResult.One(session, null);
        }

        var (current, pages) = await sessions.GetWithAllEventsAsync(caller, session.Id, cancellationToken);
        return AdkSessionResult.One(current, pages);
    }

    /// <summary>A session addressed under the wrong app or user is answered exactly like a missing one.</summary>
    private static async Task RequireOwnedAsync(
        Caller caller, string app, string user, string id, SessionService sessions, CancellationToken cancellationToken)
    {
        if (await FindOwnedAsync(caller, app, user, id, sessions, cancellationToken) is null)
        {
            throw SessionErrors.SessionNotFound(id);
        }
    }

    private static async Task<Session?> FindOwnedAsync(
        Caller caller, string app, string user, string id, SessionService sessions, CancellationToken cancellationToken) =>
        await sessions.FindAsync(caller, id, cancellationToken) is { } session && session.AppName == app && session.UserId == user
            ? session
            : null;
}
