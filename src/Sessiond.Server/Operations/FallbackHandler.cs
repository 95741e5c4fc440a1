using Sessiond.Core.Errors;

namespace Sessiond.Server.Operations;

/// <summary>Answers a path no surface serves with a <c>not_found</c> problem instead of an empty 404.</summary>
public static class FallbackHandler
{
    public static IResult NotFound(HttpContext context) =>
        throw new SessiondException(ErrorKind.NotFound, ErrorCodes.NotFound, "No route serves this path.");
}
