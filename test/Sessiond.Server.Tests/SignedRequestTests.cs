using System.Net;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>
/// HMAC-signed requests end to end, on a real server: every failure answers 401 with its exact message. Each test
/// lists the sessions of its own user, so no two tests sign the same request.
/// </summary>
public sealed class SignedRequestTests(HmacServer server) : IClassFixture<HmacServer>
{
    private static string ListOf(string user) => $"/api/v1/sessions?user_id={user}";

    private static SignedCall List(string user) => new("GET", ListOf(user)) { ForwardedUser = user };

    [Fact]
    public async Task A_good_request_is_answered()
    {
        var user = SessiondServer.NewId("u");

        var body = await (await server.SendAsync(List(user))).ShouldBeJsonAsync(HttpStatusCode.OK);

        body.GetProperty("sessions").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task A_request_signed_with_the_second_secret_is_answered()
    {
        var user = SessiondServer.NewId("u");

        (await server.SendAsync(List(user) with { Secret = HmacServer.SecondSecret })).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_request_signed_with_an_unknown_secret_is_refused()
    {
        var user = SessiondServer.NewId("u");

        await (await server.SendAsync(List(user) with { Secret = "not-a-configured-secret" }))
            .ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "invalid signature");
    }

    [Fact]
    public async Task A_tampered_body_is_refused_and_nothing_is_created()
    {
        var user = SessiondServer.NewId("u");
        var create = new SignedCall("POST", "/api/v1/sessions")
        {
            Body = $$$"""{"session":{"user_id":"{{{user}}}"}}""",
            SignedBody = $$$"""{"session":{"user_id":"{{{user}}}"} }""",
            ForwardedUser = user,
        };

        await (await server.SendAsync(create)).ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "invalid signature");

        var list = await (await server.SendAsync(List(user))).ShouldBeJsonAsync(HttpStatusCode.OK);
        list.GetProperty("sessions").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task A_tampered_path_is_refused()
    {
        var user = SessiondServer.NewId("u");

        await (await server.SendAsync(new SignedCall("GET", $"/api/v1/sessions/{user}-a") { SignedTarget = $"/api/v1/sessions/{user}-b", ForwardedUser = user }))
            .ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "invalid signature");
    }

    [Fact]
    public async Task A_tampered_query_is_refused()
    {
        var user = SessiondServer.NewId("u");

        await (await server.SendAsync(List(user) with { SignedTarget = ListOf(user) + "&status=idle" }))
            .ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "invalid signature");
        await (await server.SendAsync(List(user) with { SignedTarget = "/api/v1/sessions" }))
            .ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "invalid signature");
    }

    [Fact]
    public async Task A_tampered_method_is_refused()
    {
        var user = SessiondServer.NewId("u");

        await (await server.SendAsync(new SignedCall("DELETE", $"/api/v1/sessions/{user}") { SignedMethod = "GET", ForwardedUser = user }))
            .ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "invalid signature");
    }

    [Fact]
    public async Task A_tampered_timestamp_is_refused()
    {
        var user = SessiondServer.NewId("u");
        var now = TestSigner.Now();

        await (await server.SendAsync(List(user) with { Timestamp = now, SignedTimestamp = now - 1 }))
            .ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "invalid signature");
    }

    [Theory]
    [InlineData(-4)]
    [InlineData(4)]
    public async Task A_timestamp_four_minutes_off_is_accepted(int minutes)
    {
        var user = SessiondServer.NewId("u");

        (await server.SendAsync(List(user) with { Timestamp = TestSigner.Now() + (minutes * 60) })).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData(-6)]
    [InlineData(6)]
    public async Task A_timestamp_six_minutes_off_is_refused(int minutes)
    {
        var user = SessiondServer.NewId("u");

        await (await server.SendAsync(List(user) with { Timestamp = TestSigner.Now() + (minutes * 60) }))
            .ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "invalid or expired timestamp");
    }

    [Fact]
    public async Task A_replayed_request_is_refused()
    {
        var user = SessiondServer.NewId("u");
        var call = List(user) with { Timestamp = TestSigner.Now() };

        (await server.SendAsync(call)).StatusCode.ShouldBe(HttpStatusCode.OK);

        await (await server.SendAsync(call)).ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "replayed request");
        (await server.SendAsync(call with { Timestamp = call.Timestamp - 1 })).StatusCode.ShouldBe(HttpStatusCode.OK, "a new timestamp is a new signature");
    }

    [Fact]
    public async Task A_replayed_create_creates_nothing_more()
    {
        var user = SessiondServer.NewId("u");
        var create = new SignedCall("POST", "/api/v1/sessions") { Body = $$$"""{"session":{"user_id":"{{{user}}}"}}""", ForwardedUser = user, Timestamp = TestSigner.Now() };

        (await server.SendAsync(create)).StatusCode.ShouldBe(HttpStatusCode.Created);
        await (await server.SendAsync(create)).ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "replayed request");

        var list = await (await server.SendAsync(List(user))).ShouldBeJsonAsync(HttpStatusCode.OK);
        list.GetProperty("sessions").GetArrayLength().ShouldBe(1);
    }

    [Fact]
    public async Task A_missing_signature_is_refused()
    {
        var user = SessiondServer.NewId("u");

        var response = await server.SendAsync(List(user) with { OmitSignature = true });

        await response.ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "missing X-Hub-Signature-256 header");
        response.Headers.WwwAuthenticate.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task A_request_with_no_signing_headers_at_all_is_refused_for_the_missing_signature()
    {
        await (await server.Http.GetAsync("/api/v1/sessions")).ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "missing X-Hub-Signature-256 header");
        await (await server.Http.DeleteAsync($"/api/v1/sessions/{SessiondServer.NewId("s")}"))
            .ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "missing X-Hub-Signature-256 header");
    }

    [Fact]
    public async Task A_missing_timestamp_is_refused()
    {
        var user = SessiondServer.NewId("u");

        await (await server.SendAsync(List(user) with { OmitTimestamp = true }))
            .ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "missing X-Timestamp header");
    }

    [Fact]
    public async Task An_uppercase_hex_signature_is_refused()
    {
        var user = SessiondServer.NewId("u");

        await (await server.SendAsync(List(user) with { EditSignature = s => "sha256=" + s["sha256=".Length..].ToUpperInvariant() }))
            .ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "invalid signature");
    }

    [Fact]
    public async Task An_unprefixed_signature_is_refused()
    {
        var user = SessiondServer.NewId("u");

        await (await server.SendAsync(List(user) with { EditSignature = s => s["sha256=".Length..] }))
            .ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "invalid signature");
    }

    [Fact]
    public async Task An_empty_body_signs_the_newline_after_the_timestamp()
    {
        var user = SessiondServer.NewId("u");
        var timestamp = TestSigner.Now();
        var withoutNewline = "sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(HmacServer.FirstSecret),
            System.Text.Encoding.UTF8.GetBytes($"GET\n{ListOf(user)}\n{timestamp}")));

        await (await server.SendAsync(List(user) with { Timestamp = timestamp, EditSignature = _ => withoutNewline }))
            .ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "invalid signature");
        (await server.SendAsync(List(user) with { Timestamp = timestamp })).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_delete_with_an_empty_body_verifies()
    {
        var user = SessiondServer.NewId("u");
        var created = await (await server.SendAsync(new SignedCall("POST", "/api/v1/sessions") { Body = $$$"""{"session":{"user_id":"{{{user}}}"}}""", ForwardedUser = user }))
            .ShouldBeJsonAsync(HttpStatusCode.Created);

        (await server.SendAsync(new SignedCall("DELETE", $"/api/v1/sessions/{created.GetProperty("session_id").GetString()}") { ForwardedUser = user }))
            .StatusCode.ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task The_signature_covers_the_path_as_sent_not_decoded()
    {
        var user = SessiondServer.NewId("u");
        var id = SessiondServer.NewId("s");

        // '%3A' is ':' escaped: a signer signs what it sends, and the server must not verify the decoded path.
        await (await server.SendAsync(new SignedCall("GET", $"/api/v1/sessions/{id}%3Ax") { SignedTarget = $"/api/v1/sessions/{id}:x", ForwardedUser = user }))
            .ShouldBeMessageAsync(HttpStatusCode.Unauthorized, "invalid signature");
        await (await server.SendAsync(new SignedCall("GET", $"/api/v1/sessions/{id}%3Ax") { ForwardedUser = user }))
            .ShouldBeMessageAsync(HttpStatusCode.NotFound, $"session not found: {id}:x");
    }

    [Fact]
    public async Task Signed_requests_reach_the_native_surface_as_the_forwarded_user()
    {
        var user = SessiondServer.NewId("u");
        var created = await (await server.SendAsync(new SignedCall("POST", "/api/v1/sessions") { Body = $$$"""{"session":{"user_id":"{{{user}}}"}}""", ForwardedUser = user }))
            .ShouldBeJsonAsync(HttpStatusCode.Created);
        var id = created.GetProperty("session_id").GetString();

        var session = await (await server.SendAsync(new SignedCall("GET", $"/v1/sessions/{id}") { ForwardedUser = user })).ShouldBeJsonAsync(HttpStatusCode.OK);

        session.GetProperty("userId").GetString().ShouldBe(user);
        (await server.SendAsync(new SignedCall("GET", $"/v1/sessions/{id}") { ForwardedUser = SessiondServer.NewId("other") }))
            .StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_body_over_the_limit_answers_413_in_the_surface_shape()
    {
        var user = SessiondServer.NewId("u");
        var padding = new string('x', HmacServer.MaxBodyBytes);

        var response = await server.SendAsync(new SignedCall("POST", "/api/v1/sessions")
        {
            Body = $$$"""{"session":{"user_id":"{{{user}}}"},"initial_message":"{{{padding}}}"}""",
            ForwardedUser = user,
        });

        await response.ShouldBeMessageAsync(HttpStatusCode.RequestEntityTooLarge, "request body too large");
    }
}
