using System.Net;
using Sessiond.Server.Hosting;
using Shouldly;

namespace Sessiond.Server.Tests;

public sealed class AuthStartupTests
{
    [Theory]
    [InlineData("http://0.0.0.0:8080")]
    [InlineData("http://*:8080")]
    [InlineData("http://+:8080")]
    [InlineData("http://192.168.1.10:8080")]
    [InlineData("http://127.0.0.1:8080;http://[::]:8080")]
    public void Without_auth_a_non_loopback_address_refuses_to_start(string urls)
    {
        var error = Should.Throw<InvalidOperationException>(() => SessiondHost.RequireLoopbackWithoutAuth(urls, authConfigured: false, insecureNoAuth: false));

        error.Message.ShouldContain("--insecure-no-auth");
        SessiondHost.RequireLoopbackWithoutAuth(urls, authConfigured: true, insecureNoAuth: false);
        SessiondHost.RequireLoopbackWithoutAuth(urls, authConfigured: false, insecureNoAuth: true);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("http://localhost:0")]
    [InlineData("http://[::1]:9000")]
    public void Without_auth_loopback_is_served(string urls) =>
        SessiondHost.RequireLoopbackWithoutAuth(urls, authConfigured: false, insecureNoAuth: false);

    [Fact]
    public void Building_the_server_on_a_public_address_without_auth_fails_with_the_fix()
    {
        var error = Should.Throw<InvalidOperationException>(() => SessiondHost.Build(["--urls", "http://0.0.0.0:0", "--data-dir", Path.GetTempPath()]));

        error.Message.ShouldContain("Sessiond:Auth");
    }
}

/// <summary>A flood from one caller meets the rate limiter: 429 with Retry-After, as problem+json.</summary>
public sealed class RateLimitTests(RateLimitedServer server) : IClassFixture<RateLimitedServer>
{
    [Fact]
    public async Task A_flood_gets_429_with_retry_after()
    {
        var client = server.ClientWith(AuthServer.AliceToken);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 20 && limited is null; i++)
        {
            var response = await client.GetAsync("/v1/apps");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
        }

        limited.ShouldNotBeNull($"no 429 in {string.Join(",", statuses)}");
        limited.Headers.RetryAfter.ShouldNotBeNull();
        await limited.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
        (await server.ClientWith(AuthServer.BobToken).GetAsync("/v1/apps")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}

/// <summary>An auth server whose callers may make 5 requests at once and 1 a second after that.</summary>
public sealed class RateLimitedServer : AuthServer
{
    protected override string[] ExtraArgs => [.. base.ExtraArgs, "--Sessiond:RateLimit:PermitsPerSecond=1", "--Sessiond:RateLimit:Burst=5"];
}
