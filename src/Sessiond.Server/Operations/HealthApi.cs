using Microsoft.AspNetCore.Http.HttpResults;
using Sessiond.Server.Hosting;

namespace Sessiond.Server.Operations;

/// <summary><c>/healthz</c> (the process answers) and <c>/readyz</c> (the store is open); both reveal nothing but health.</summary>
public static class HealthApi
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", Healthz).AllowAnonymous();
        routes.MapGet("/readyz", Readyz).AllowAnonymous();
    }

    public static Ok<HealthResponse> Healthz() => TypedResults.Ok(new HealthResponse("ok"));

    public static Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>> Readyz(StoreReadiness readiness) =>
        readiness.IsReady
            ? TypedResults.Ok(new HealthResponse("ready"))
            : TypedResults.Json(new HealthResponse("starting"), statusCode: StatusCodes.Status503ServiceUnavailable);
}

/// <summary>The body of the health endpoints.</summary>
public sealed record HealthResponse(string Status);
