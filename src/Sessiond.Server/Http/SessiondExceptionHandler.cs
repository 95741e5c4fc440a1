using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Sessiond.Core.Errors;

namespace Sessiond.Server.Http;

/// <summary>
/// Turns every exception that escapes an endpoint into problem+json with a stable <c>code</c>. (The ADK and signed
/// surfaces answer in their own shapes first, through <see cref="SurfaceErrors"/>.) A client hanging up is not an error.
/// </summary>
public sealed partial class SessiondExceptionHandler(IProblemDetailsService problems, ILogger<SessiondExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            return true;
        }

        var error = ToDomainError(exception);
        if (error is null)
        {
            LogUnhandled(logger, exception, context.Request.Method, context.Request.Path);
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            return await WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails { Status = 500, Title = "The server failed to handle the request." },
            });
        }

        var status = ProblemMapping.StatusOf(error.Kind);
        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = error.Message };
        problem.Extensions["code"] = error.Code;
        foreach (var (key, value) in error.Extensions)
        {
            problem.Extensions[key] = value;
        }

        return await WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>
    /// Writes the problem as problem+json whatever the request accepts. The default writer declines when <c>Accept</c>
    /// leaves JSON out, as an EventSource's <c>text/event-stream</c> does, which left an empty body (and turned a 404 into a 500).
    /// </summary>
    private async ValueTask<bool> WriteAsync(ProblemDetailsContext problem)
    {
        if (await problems.TryWriteAsync(problem))
        {
            return true;
        }

        problem.HttpContext.Request.Headers.Accept = "application/problem+json";
        return await problems.TryWriteAsync(problem);
    }

    /// <summary>The domain error an exception stands for, or null for a server fault.</summary>
    public static SessiondException? ToDomainError(Exception exception) => exception switch
    {
        SessiondException domain => domain,
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            SessionErrors.TooLarge("The request body is over the size limit."),
        BadHttpRequestException bad => SessionErrors.Invalid(bad.Message),
        _ => null,
    };

    [LoggerMessage(EventId = 1000, Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, PathString path);
}
