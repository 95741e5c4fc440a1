using Sessiond.Server.Http;

namespace Sessiond.Server.Adk;

/// <summary>Answers domain errors on the ADK surface in ADK's <c>{"detail": ...}</c> shape; anything else goes on to the host's handler.</summary>
public sealed class AdkErrorFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception ex) when (SessiondExceptionHandler.ToDomainError(ex) is { } error)
        {
            return AdkErrors.ToResult(error);
        }
    }
}
