using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>
/// The console's static files are open to anyone, with a self-only content policy, while every other route keeps
/// needing credentials. (The console itself is tested in a browser by Sessiond.Console.Tests.)
/// </summary>
public sealed partial class WebConsoleRoutesTests(AuthServer server) : IClassFixture<AuthServer>
{
    private readonly HttpClient _anonymous = server.ClientWith(null);

    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/console/console.js", "text/javascript")]
    [InlineData("/console/console.css", "text/css")]
    [InlineData("/console/icon.svg", "image/svg+xml")]
    public async Task Console_files_need_no_credentials_and_carry_the_security_headers(string path, string mediaType)
    {
        var response = await _anonymous.GetAsync(path);

        response.StatusCode.ShouldBe(HttpStatusCode.OK, path);
        response.Content.Headers.ContentType!.MediaType.ShouldBe(mediaType);
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        policy.ShouldContain("default-src 'none'");
        policy.ShouldContain("script-src 'self'");
        policy.ShouldContain("connect-src 'self'");
        policy.ShouldContain("frame-ancestors 'none'");
        policy.ShouldNotContain("unsafe");
        response.Headers.GetValues("X-Content-Type-Options").Single().ShouldBe("nosniff");
        response.Headers.GetValues("X-Frame-Options").Single().ShouldBe("DENY");
        (await response.Content.ReadAsByteArrayAsync()).ShouldNotBeEmpty();
    }

    [Theory]
    [InlineData("/v1/sessions")]
    [InlineData("/v1/stream?appName=echo&userId=alice")]
    [InlineData("/list-apps")]
    [InlineData("/api/list-apps")]
    [InlineData("/apps/echo/users/alice/sessions")]
    [InlineData("/console")]
    [InlineData("/index.html")]
    public async Task Everything_else_still_needs_credentials(string path)
    {
        var response = await _anonymous.GetAsync(path);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, path);
    }

    [Fact]
    public async Task An_unknown_console_file_is_not_found()
    {
        await (await _anonymous.GetAsync("/console/secrets.json")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_browser_revalidates_with_the_etag()
    {
        var first = await _anonymous.GetAsync("/console/console.js");
        first.Headers.CacheControl!.NoCache.ShouldBeTrue();
        var etag = first.Headers.ETag.ShouldNotBeNull();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/console/console.js");
        request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue(etag.Tag));
        var second = await _anonymous.SendAsync(request);

        second.StatusCode.ShouldBe(HttpStatusCode.NotModified);
    }

    [Fact]
    public async Task The_page_has_no_inline_script_style_or_handlers()
    {
        var html = await _anonymous.GetStringAsync("/");

        ScriptTag().Matches(html).ShouldAllBe(m => m.Value.Contains("src=\"/console/", StringComparison.Ordinal));
        InlineStyleOrHandler().IsMatch(html).ShouldBeFalse();
        html.ShouldNotContain("<style", Case.Insensitive);
        html.ShouldContain("<script type=\"module\" src=\"/console/console.js\"></script>");
    }

    [GeneratedRegex("<script[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();

    [GeneratedRegex(@"\s(style|on[a-z]+)\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineStyleOrHandler();
}
