using Sessiond.Core.Errors;
using Sessiond.Core.Validation;
using Sessiond.Server.Http;

namespace Sessiond.Server.SessionManager;

/// <summary>Domain errors on the signed session-manager surface, in agentapi-proxy's <c>{"message": ...}</c> shape.</summary>
public static class SessionManagerErrors
{
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
