using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Sessiond.Core.Errors;
using Sessiond.Core.Validation;

namespace Sessiond.Server.Http;

/// <summary>
/// Reads a request body as JSON under the configured limits, turning every way it can be wrong
/// (too large, not JSON, too deep, wrong types) into a domain error with a stable code.
/// </summary>
public static class JsonBody
{
    /// <summary>Reads a required JSON body; an empty body or JSON <c>null</c> is <c>invalid_request</c>.</summary>
    public static async Task<T> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo) where T : class =>
        await ReadOptionalAsync(request, typeInfo) ?? throw SessionErrors.Invalid("The request body must be a JSON object.");

    /// <summary>Reads an optional JSON body; null when the body is empty.</summary>
    public static async Task<T?> ReadOptionalAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo) where T : class
    {
        var limits = request.HttpContext.RequestServices.GetRequiredService<SessiondLimits>();
        if (request.ContentLength > limits.MaxRequestBodyBytes)
        {
            SessionErrors.ThrowTooLarge($"The request body is over the limit of {limits.MaxRequestBodyBytes} bytes.");
        }

        if (request.ContentType is { } contentType && !contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            throw new SessiondException(ErrorKind.Invalid, "unsupported_media_type", "The request body must be application/json.");
        }

        if (request.ContentLength == 0)
        {
            return null;
        }

        var options = InputOptions.For(typeInfo.Options, limits.MaxJsonDepth);
        try
        {
            // Buffer first: an empty chunked body must read as "no body", and the size limit applies while reading.
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
            if (buffer.Length == 0)
            {
                return null;
            }

            return JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));
        }
        catch (JsonException ex)
        {
            throw SessionErrors.Invalid(ex.Path is { Length: > 1 } path
                ? $"The request body is not valid JSON for this endpoint at '{path}'."
                : "The request body is not valid JSON for this endpoint.");
        }
    }

    /// <summary>Caches one set of input options (with the depth limit) per serializer context.</summary>
    private static class InputOptions
    {
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<(JsonSerializerOptions, int), JsonSerializerOptions> Cache = new();

        public static JsonSerializerOptions For(JsonSerializerOptions source, int maxDepth) =>
            Cache.GetOrAdd((source, maxDepth), static key =>
            {
                var options = new JsonSerializerOptions(key.Item1) { MaxDepth = key.Item2 };
                options.MakeReadOnly(populateMissingResolver: false);
                return options;
            });
    }
}
