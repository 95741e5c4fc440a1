using System.Globalization;
using Sessiond.Core.Errors;

namespace Sessiond.Server.Http;

/// <summary>Typed reads of query parameters that answer <c>invalid_request</c> naming the parameter, instead of a bare 400.</summary>
public static class QueryParameters
{
    public static string? String(HttpRequest request, string name)
    {
        var values = request.Query[name];
        return values.Count switch
        {
            0 => null,
            1 => values[0] is { Length: > 0 } value ? value : null,
            _ => throw SessionErrors.Invalid($"Query parameter '{name}' was given more than once."),
        };
    }

    public static long? Long(HttpRequest request, string name) =>
        String(request, name) is { } text
            ? long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw SessionErrors.Invalid($"Query parameter '{name}' must be a non-negative whole number.")
            : null;

    public static int? Int(HttpRequest request, string name) =>
        String(request, name) is { } text
            ? int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw SessionErrors.Invalid($"Query parameter '{name}' must be a whole number from 0 to {int.MaxValue}.")
            : null;

    public static bool? Bool(HttpRequest request, string name) =>
        String(request, name) switch
        {
            null => null,
            "true" => true,
            "false" => false,
            _ => throw SessionErrors.Invalid($"Query parameter '{name}' must be 'true' or 'false'."),
        };
}
