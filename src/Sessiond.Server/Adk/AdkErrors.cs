using Sessiond.Core.Errors;
using Sessiond.Server.Http;

namespace Sessiond.Server.Adk;

/// <summary>
/// Errors on the ADK surface keep ADK's (FastAPI's) shape, <c>{"detail": "..."}</c>, with Sessiond's <c>code</c> beside it.
/// Invalid input answers 422 as FastAPI's validation does; everything else maps as on the native surface.
/// </summary>
public static class AdkErrors
{
    public static int StatusOf(ErrorKind kind) =>
        kind == ErrorKind.Invalid ? StatusCodes.Status422UnprocessableEntity : ProblemMapping.StatusOf(kind);

    public static IResult ToResult(SessiondException error, HttpContext context)
    {
        // ADK clients match on these texts.
        var detail = error.Code switch
        {
            ErrorCodes.SessionNotFound => "Session not found",
            _ => error.Message,
        };
        return TypedResults.Json(new AdkError(detail, error.Code), ServerJsonContext.Default.AdkError, statusCode: StatusOf(error.Kind));
    }
}
