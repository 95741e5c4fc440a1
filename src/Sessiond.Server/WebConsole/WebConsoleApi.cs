using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Sessiond.Server.WebConsole;

/// <summary>
/// The web console: static files embedded in the server assembly, served at <c>/</c> and under <c>/console/</c>.
/// They need no credentials (they hold no data); the API calls the console makes carry the user's bearer token and
/// stay protected by the fallback policy.
/// </summary>
public static class WebConsoleApi
{
    /// <summary>The path prefix of the console's assets.</summary>
    public const string AssetPrefix = "/console";

    /// <summary>Only the console's own files may load, and no page may frame it.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private const string ResourcePrefix = "console/";

    private static readonly FrozenDictionary<string, ConsoleAsset> Assets = LoadAssets();

    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], Index).AllowAnonymous().ExcludeFromDescription();
        routes.MapMethods(AssetPrefix + "/{file}", [HttpMethods.Get, HttpMethods.Head], Asset).AllowAnonymous().ExcludeFromDescription();
    }

    public static IResult Index(HttpContext context) => Serve(context, "index.html");

    public static IResult Asset(string file, HttpContext context) => Serve(context, file);

    private static IResult Serve(HttpContext context, string file)
    {
        if (!Assets.TryGetValue(file, out var asset))
        {
            return TypedResults.NotFound();
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        // Revalidate every time: an upgraded server must never run against a cached older script.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Bytes(asset.Content, asset.ContentType);
    }

    /// <summary>Reads every embedded <c>console/*</c> resource once; the project file names them.</summary>
    private static FrozenDictionary<string, ConsoleAsset> LoadAssets()
    {
        var assembly = typeof(WebConsoleApi).Assembly;
        var assets = new Dictionary<string, ConsoleAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            var etag = new EntityTagHeaderValue("\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"").ToString();
            assets[name[ResourcePrefix.Length..]] = new ConsoleAsset(ContentTypeOf(name), bytes, etag);
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
