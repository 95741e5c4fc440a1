using System.Net;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>CORS is off unless origins are listed; then only those origins get CORS headers.</summary>
public sealed class CorsTests(CorsServer server) : IClassFixture<CorsServer>
{
    [Fact]
    public async Task A_listed_origin_passes_preflight_and_others_get_no_cors_headers()
    {
        using var allowed = new HttpRequestMessage(HttpMethod.Options, "/v1/sessions");
        allowed.Headers.Add("Origin", "https://console.example.com");
        allowed.Headers.Add("Access-Control-Request-Method", "POST");
        allowed.Headers.Add("Access-Control-Request-Headers", "content-type");
        var preflight = await server.Http.SendAsync(allowed);

        ((int)preflight.StatusCode).ShouldBeInRange(200, 299);
        preflight.Headers.GetValues("Access-Control-Allow-Origin").Single().ShouldBe("https://console.example.com");

        using var other = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        other.Headers.Add("Origin", "https://evil.example.net");
        var response = await server.Http.SendAsync(other);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Headers.Contains("Access-Control-Allow-Origin").ShouldBeFalse();
    }

    [Fact]
    public async Task Without_a_list_there_are_no_cors_headers()
    {
        await using var plain = new SessiondServer();
        await plain.InitializeAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Add("Origin", "https://console.example.com");

        var response = await plain.Http.SendAsync(request);

        response.Headers.Contains("Access-Control-Allow-Origin").ShouldBeFalse();
    }
}

/// <summary>A server that allows one browser origin.</summary>
public sealed class CorsServer : SessiondServer
{
    protected override string[] ExtraArgs => ["--Sessiond:Cors:AllowedOrigins:0=https://console.example.com"];
}
