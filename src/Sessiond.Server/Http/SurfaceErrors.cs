using Sessiond.Core.Errors;

namespace Sessiond.Server.Http;

/// <summary>For surfaces that keep a foreign error shape (ADK, agentapi-proxy): their domain errors, in their own body.</summary>
public static class SurfaceErrors
{
    /// <summary>
    /// Answers the group's domain errors with <paramref name="toResult"/>; anything else goes on to the host's handler,
    /// which writes problem+json.
    /// </summary>
    public static RouteGroupBuilder WithSurfaceErrors(this RouteGroupBuilder group, Func<SessiondException, HttpContext, IResult> toResult) =>
        group.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (Exception ex) when (SessiondExceptionHandler.ToDomainError(ex) is { } error)
            {
                return toResult(error, context.HttpContext);
            }
        });
}
