using Sessiond.Core.Errors;
using Sessiond.Core.Validation;
using Sessiond.Server.Http;

namespace Sessiond.Server.SessionManager;

/// <summary>
/// Answers domain errors on the signed session-manager surface in agentapi-proxy's <c>{"message": ...}</c> shape, with
/// the status the one mapping gives; anything else goes on to the host's handler.
/// </summary>
public sealed class SessionManagerErrorFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception ex) when (SessiondExceptionHandler.ToDomainError(ex) is { } error)
        {
            return ToResult(error, context.HttpContext);
        }
    }

    public static IResult ToResult(SessiondException error, HttpContext context)
    {
        // agentapi-proxy's clients read this text; the id is the one the client addressed, cut to the longest valid id.
        var message = error.Code == ErrorCodes.SessionNotFound && context.Request.RouteValues["id"] is string id
            ? "session not found: " + id[..Math.Min(id.Length, Ids.MaxLength)]
            : error.Message;
        return TypedResults.Json(
            new SessionManagerError(message), SessionManagerJsonContext.Default.SessionManagerError, statusCode: ProblemMapping.StatusOf(error.Kind));
    }
}
