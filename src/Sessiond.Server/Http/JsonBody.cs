using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
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

        if (request.ContentType is { } contentType && !IsJsonMediaType(contentType))
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

            var json = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
            var value = JsonSerializer.Deserialize(json, (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));
            RequireValidText(json);
            return value;
        }
        catch (JsonException ex)
        {
            throw SessionErrors.Invalid(ex.Path is { Length: > 1 } path
                ? $"The request body is not valid JSON for this endpoint at '{path}'."
                : "The request body is not valid JSON for this endpoint.");
        }
    }

    /// <summary><c>application/json</c> or a <c>+json</c> type, as ASP.NET Core's own JSON binding accepts.</summary>
    private static bool IsJsonMediaType(string contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed) && parsed.MediaType is { } mediaType
        && (mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Refuses strings (values and names, anywhere in the body) that are not valid Unicode: raw bytes that are not UTF-8,
    /// and escapes that leave a lone surrogate such as <c>\ud800</c>. System.Text.Json keeps such strings inside
    /// <see cref="JsonElement"/> values and fails only when writing them out (a 500), or turns bad bytes into U+FFFD,
    /// so they would not round-trip; they are refused before anything is stored.
    /// </summary>
    private static void RequireValidText(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 1000 });
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && !IsValidText(ref reader))
            {
                SessionErrors.ThrowInvalid("The request body holds a string that is not valid Unicode (bad UTF-8 or a lone surrogate escape).");
            }
        }
    }

    private static bool IsValidText(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return Utf8.IsValid(reader.ValueSpan);
        }

        try
        {
            _ = reader.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
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
