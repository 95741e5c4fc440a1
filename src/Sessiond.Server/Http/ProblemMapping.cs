using Microsoft.AspNetCore.Http.Features;
using Sessiond.Core.Errors;

namespace Sessiond.Server.Http;

/// <summary>The one mapping from domain errors to HTTP: status per <see cref="ErrorKind"/>, and a <c>code</c> on every problem.</summary>
public static class ProblemMapping
{
    public static int StatusOf(ErrorKind kind) => kind switch
    {
        ErrorKind.Invalid => StatusCodes.Status400BadRequest,
        ErrorKind.TooLarge => StatusCodes.Status413PayloadTooLarge,
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        ErrorKind.Conflict => StatusCodes.Status409Conflict,
        ErrorKind.Unprocessable => StatusCodes.Status422UnprocessableEntity,
        ErrorKind.Unauthorized => StatusCodes.Status401Unauthorized,
        ErrorKind.Forbidden => StatusCodes.Status403Forbidden,
        ErrorKind.TooMany => StatusCodes.Status429TooManyRequests,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>The code for a problem the framework produced itself (no route, wrong method, ...).</summary>
    public static string CodeOf(int status) => status switch
    {
        StatusCodes.Status400BadRequest => ErrorCodes.InvalidRequest,
        StatusCodes.Status401Unauthorized => ErrorCodes.Unauthorized,
        StatusCodes.Status403Forbidden => ErrorCodes.Forbidden,
        StatusCodes.Status404NotFound => ErrorCodes.NotFound,
        StatusCodes.Status405MethodNotAllowed => "method_not_allowed",
        StatusCodes.Status413PayloadTooLarge => ErrorCodes.PayloadTooLarge,
        StatusCodes.Status415UnsupportedMediaType => "unsupported_media_type",
        >= 500 => "internal_error",
        _ => "http_" + status,
    };

    /// <summary>Adds <c>code</c> (and the request's trace id) to every problem document the host writes.</summary>
    public static void Customize(ProblemDetailsOptions options) =>
        options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            problem.Extensions.TryAdd("code", CodeOf(problem.Status ?? context.HttpContext.Response.StatusCode));
            problem.Extensions.TryAdd("traceId", context.HttpContext.Features.Get<IHttpActivityFeature>()?.Activity.Id
                ?? context.HttpContext.TraceIdentifier);
        };
}
