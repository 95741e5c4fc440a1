using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Sessiond.Core.Access;
using Sessiond.Core.Errors;
using Sessiond.Core.Events;
using Sessiond.Core.Sessions;
using Sessiond.Server.Auth;
using Sessiond.Server.Http;

namespace Sessiond.Server.SessionManager;

/// <summary>
/// The signed session-manager API under <c>/api/v1/sessions</c>: the contract an upstream agentapi-proxy uses to place
/// and track sessions on this node, in its snake_case shapes. Every request must verify under the <c>hmac</c> scheme;
/// every error answers <c>{"message": ...}</c>. With no HMAC secret configured the routes do not exist.
/// </summary>
public static class SignedSessionManagerApi
{
    /// <summary>The app of a session created without <c>agent_type</c>.</summary>
    public const string DefaultAgentType = "default";

    public static void Map(IEndpointRouteBuilder routes)
    {
        // AddHmacAuthentication registers the verifier only when a secret is configured; without one there is no surface.
        if (routes.ServiceProvider.GetService<HmacSignature>() is null)
        {
            return;
        }

        var group = routes.MapGroup("/api/v1/sessions")
            .RequireAuthorization(new AuthorizationPolicyBuilder(HmacAuthenticationHandler.SchemeName).RequireAuthenticatedUser().Build())
            .WithSurfaceErrors(SessionManagerErrors.ToResult);
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapDelete("/{id}", DeleteAsync);
    }

    /// <summary>
    /// Creates a session from agentapi-proxy's SessionSettings. <c>agent_type</c> names the app (<see cref="DefaultAgentType"/>
    /// when absent); <c>env</c> is ignored, since agents take their configuration from <c>agents/&lt;app&gt;.yaml</c> and env
    /// often carries credentials that must not be stored. Until the agent runtime exists, <c>initial_message</c> is stored
    /// in the same create as the session's first event (author <c>user</c>, a user-role text part) and no turn starts.
    /// </summary>
    public static async Task<IResult> CreateAsync(HttpRequest request, SessionService sessions)
    {
        var settings = await JsonBody.ReadAsync(request, SessionManagerJsonContext.Default.SessionSettings);
        if (settings.Session is not { UserId: { Length: > 0 } userId } spec)
        {
            throw SessionErrors.Invalid("'session.user_id' is required.");
        }

        var session = await sessions.CreateAsync(CreatorFor(request.HttpContext, userId), new CreateSessionCommand
        {
            AppName = spec.AgentType ?? DefaultAgentType,
            UserId = userId,
            Id = spec.Id,
            Scope = spec.Scope,
            TeamId = spec.TeamId,
            Events = settings.InitialMessage is { Length: > 0 } message ? [InitialMessageEvent(message)] : null,
        }, request.HttpContext.RequestAborted);
        request.HttpContext.Response.Headers.Location = $"/api/v1/sessions/{Uri.EscapeDataString(session.Id)}";
        return TypedResults.Json(
            new CreatedSession(session.Id), SessionManagerJsonContext.Default.CreatedSession, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>Every session matching the exact-match filters <c>user_id</c>, <c>scope</c>, <c>team_id</c> and <c>status</c>.</summary>
    public static async Task<IResult> ListAsync(HttpRequest request, SessionService sessions)
    {
        var (caller, cancellationToken) = (request.HttpContext.Caller(), request.HttpContext.RequestAborted);
        var query = new SessionQuery
        {
            UserId = QueryParameters.String(request, "user_id"),
            Scope = QueryParameters.String(request, "scope"),
            TeamId = QueryParameters.String(request, "team_id"),
            Status = QueryParameters.String(request, "status"),
        };

        // agentapi-proxy expects every match at once.
        var all = (await sessions.ListAllAsync(caller, query, cancellationToken))
            .Select(s => new SessionSummary(s.Id, s.UserId, s.Status, s.CreatedAt)).ToList();
        return TypedResults.Json(new SessionSummaryList(all), SessionManagerJsonContext.Default.SessionSummaryList);
    }

    public static async Task<IResult> GetAsync(string id, HttpContext context, SessionService sessions)
    {
        var session = await sessions.RequireSessionAsync(context.Caller(), id, context.RequestAborted);
        return TypedResults.Json(
            new SessionInfo(session.Id, session.UserId, session.Status, session.CreatedAt, session.Scope, session.TeamId, session.AppName),
            SessionManagerJsonContext.Default.SessionInfo);
    }

    public static async Task<NoContent> DeleteAsync(string id, HttpContext context, SessionService sessions)
    {
        await sessions.DeleteAsync(context.Caller(), id, context.RequestAborted);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Who a create acts as. When the request names <c>X-Forwarded-User</c>, the session must be that user's (403
    /// otherwise). When it names none, a service acts for the body's <c>user_id</c>: the upstream that signed the body
    /// (which, unlike the identity headers, the signature covers) names the user it creates for. Teams still come only
    /// from <c>X-Forwarded-Team</c>. Every other call without <c>X-Forwarded-User</c> is refused by the access policy.
    /// </summary>
    private static Caller CreatorFor(HttpContext context, string userId)
    {
        var caller = context.Caller();
        if (context.User.FindFirst(SessiondClaims.User)?.Value is { } forwardedUser && forwardedUser != userId)
        {
            throw AccessPolicy.Forbidden("'session.user_id' must be the user named by X-Forwarded-User.");
        }

        return caller is { Role: CallerRole.Service, UserId: null } ? caller with { UserId = userId } : caller;
    }

    private static SessionEvent InitialMessageEvent(string message) => new()
    {
        Author = "user",
        Content = new EventContent { Role = "user", Parts = [new EventPart { Text = message }] },
    };
}
