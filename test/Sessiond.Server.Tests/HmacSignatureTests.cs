using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Sessiond.Server.Auth;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>
/// <see cref="HmacSignature"/> and <see cref="HmacReplayCache"/> on fake time. Requests are signed by
/// <see cref="TestSigner"/>, written apart from the production code; fixed vectors were computed with
/// <c>printf '...' | openssl dgst -sha256 -hmac k1-secret</c>.
/// </summary>
public sealed class HmacSignatureTests
{
    private const long Now = 1_700_000_000;
    private const string Key1 = "k1-secret";
    private const string Key2 = "k2-secret";

    private readonly ManualTime _time = new(DateTimeOffset.FromUnixTimeSeconds(Now));
    private readonly HmacSignature _signature;

    public HmacSignatureTests() =>
        _signature = new HmacSignature(
            new HmacOptions { Secrets = [new() { Id = "k1", Secret = Key1 }, new() { Id = "k2", Secret = Key2 }] }, _time);

    [Fact]
    public void Compute_matches_openssl_for_a_body_and_a_query()
    {
        HmacSignature.Compute(Encoding.UTF8.GetBytes(Key1), "post", "/api/v1/sessions?team_id=t1", "1700000000", """{"session":{"user_id":"u1"}}"""u8)
            .ShouldBe("sha256=1155963fbb70d3cdbef4ff713ff63c7cdec2d09ccf25ba5843b43b4e312f12ca");
    }

    [Fact]
    public void Compute_signs_the_trailing_newline_of_an_empty_body()
    {
        HmacSignature.Compute(Encoding.UTF8.GetBytes(Key1), "GET", "/api/v1/sessions", "1700000000", [])
            .ShouldBe("sha256=e803355bb9dedc9f17ad37b49ea46477e96c16e5f4ffc5791531e8bd4acdf39c");
    }

    [Fact]
    public async Task A_good_request_verifies_under_the_first_secret()
    {
        var body = """{"session":{"user_id":"u1"}}"""u8.ToArray();
        var result = await VerifyAsync(TestSigner.Sign(Key1, "POST", "/api/v1/sessions?team_id=t1", Now, body), Now, "POST", "/api/v1/sessions?team_id=t1", body);

        result.Succeeded.ShouldBeTrue(result.Failure);
        result.SecretId.ShouldBe("k1");
        result.Timestamp.ShouldBe(Now);
        result.Digest.ShouldBe("1155963fbb70d3cdbef4ff713ff63c7cdec2d09ccf25ba5843b43b4e312f12ca");
    }

    [Fact]
    public async Task A_request_signed_with_the_second_secret_verifies_under_it()
    {
        var result = await VerifyAsync(TestSigner.Sign(Key2, "GET", "/api/v1/sessions", Now, []), Now, "GET", "/api/v1/sessions", []);

        result.SecretId.ShouldBe("k2");
    }

    [Fact]
    public async Task A_request_signed_with_an_unknown_secret_is_an_invalid_signature()
    {
        var result = await VerifyAsync(TestSigner.Sign("another-secret", "GET", "/api/v1/sessions", Now, []), Now, "GET", "/api/v1/sessions", []);

        result.Failure.ShouldBe("invalid signature");
    }

    [Theory]
    [InlineData("method", "DELETE", "/api/v1/sessions/s1", "{}")]
    [InlineData("path", "POST", "/api/v1/sessions/s2", "{}")]
    [InlineData("query", "POST", "/api/v1/sessions/s1?x=2", "{}")]
    [InlineData("body", "POST", "/api/v1/sessions/s1", "{ }")]
    public async Task A_tampered_request_is_an_invalid_signature(string tampered, string method, string target, string body)
    {
        var signature = TestSigner.Sign(Key1, "POST", tampered == "query" ? "/api/v1/sessions/s1?x=1" : "/api/v1/sessions/s1", Now, "{}"u8.ToArray());

        var result = await VerifyAsync(signature, Now, method, target, Encoding.UTF8.GetBytes(body));

        result.Failure.ShouldBe("invalid signature", tampered);
    }

    [Fact]
    public async Task A_tampered_timestamp_is_an_invalid_signature()
    {
        var result = await VerifyAsync(TestSigner.Sign(Key1, "GET", "/api/v1/sessions", Now, []), Now + 1, "GET", "/api/v1/sessions", []);

        result.Failure.ShouldBe("invalid signature");
    }

    [Fact]
    public async Task The_method_is_signed_in_uppercase()
    {
        var result = await VerifyAsync(TestSigner.Sign(Key1, "GET", "/api/v1/sessions", Now, []), Now, "get", "/api/v1/sessions", []);

        result.SecretId.ShouldBe("k1");
    }

    [Fact]
    public async Task An_empty_body_signed_without_the_trailing_newline_is_an_invalid_signature()
    {
        var withoutNewline = "sha256=" + Convert.ToHexStringLower(
            HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key1), Encoding.UTF8.GetBytes($"GET\n/api/v1/sessions\n{Now}")));

        var result = await VerifyAsync(withoutNewline, Now, "GET", "/api/v1/sessions", []);

        result.Failure.ShouldBe("invalid signature");
    }

    [Theory]
    [InlineData(-240)]
    [InlineData(240)]
    [InlineData(-300)]
    [InlineData(300)]
    public async Task A_timestamp_within_the_window_verifies(int skewSeconds)
    {
        var timestamp = Now + skewSeconds;
        var result = await VerifyAsync(TestSigner.Sign(Key1, "GET", "/api/v1/sessions", timestamp, []), timestamp, "GET", "/api/v1/sessions", []);

        result.SecretId.ShouldBe("k1");
    }

    [Theory]
    [InlineData(-360)]
    [InlineData(360)]
    [InlineData(-301)]
    [InlineData(301)]
    public async Task A_timestamp_outside_the_window_is_refused_before_the_signature(int skewSeconds)
    {
        var timestamp = Now + skewSeconds;
        var result = await VerifyAsync(TestSigner.Sign(Key1, "GET", "/api/v1/sessions", timestamp, []), timestamp, "GET", "/api/v1/sessions", []);

        result.Failure.ShouldBe("invalid or expired timestamp");
    }

    [Fact]
    public async Task The_window_follows_the_clock_and_the_configured_skew()
    {
        var narrow = new HmacSignature(new HmacOptions { Secrets = [new() { Id = "k1", Secret = Key1 }], MaxSkewSeconds = 10 }, _time);
        var signature = TestSigner.Sign(Key1, "GET", "/x", Now, []);

        (await VerifyAsync(narrow, signature, Now, "GET", "/x", [])).SecretId.ShouldBe("k1");
        _time.Advance(TimeSpan.FromSeconds(11));
        (await VerifyAsync(narrow, signature, Now, "GET", "/x", [])).Failure.ShouldBe("invalid or expired timestamp");
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-1700000000")]
    [InlineData("+1700000000")]
    [InlineData("1700000000.5")]
    [InlineData(" 1700000000")]
    [InlineData("99999999999999999999999")]
    public async Task A_timestamp_that_is_not_whole_unix_seconds_is_refused(string timestamp)
    {
        var signature = TestSigner.Sign(Key1, "GET", "/x", Now, []);
        await using var body = new MemoryStream();

        var result = await _signature.VerifyAsync(signature, timestamp, "GET", "/x", body, CancellationToken.None);

        result.Failure.ShouldBe(timestamp.Length == 0 ? "missing X-Timestamp header" : "invalid or expired timestamp");
    }

    [Fact]
    public async Task Missing_headers_are_named_signature_first()
    {
        await using var body = new MemoryStream();

        (await _signature.VerifyAsync(default, default, "GET", "/x", body, CancellationToken.None)).Failure
            .ShouldBe("missing X-Hub-Signature-256 header");
        (await _signature.VerifyAsync(default, "1700000000", "GET", "/x", body, CancellationToken.None)).Failure
            .ShouldBe("missing X-Hub-Signature-256 header");
        (await _signature.VerifyAsync(TestSigner.Sign(Key1, "GET", "/x", Now, []), default, "GET", "/x", body, CancellationToken.None)).Failure
            .ShouldBe("missing X-Timestamp header");
    }

    [Fact]
    public async Task Uppercase_hex_is_an_invalid_signature()
    {
        var signature = TestSigner.Sign(Key1, "GET", "/x", Now, []);
        var upper = "sha256=" + signature["sha256=".Length..].ToUpperInvariant();

        (await VerifyAsync(upper, Now, "GET", "/x", [])).Failure.ShouldBe("invalid signature");
    }

    [Theory]
    [InlineData("")]
    [InlineData("SHA256=")]
    [InlineData("sha1=")]
    [InlineData("sha256 ")]
    public async Task A_signature_without_the_sha256_prefix_is_invalid(string prefix)
    {
        var hex = TestSigner.Sign(Key1, "GET", "/x", Now, [])["sha256=".Length..];

        (await VerifyAsync(prefix + hex, Now, "GET", "/x", [])).Failure.ShouldBe("invalid signature");
    }

    [Theory]
    [InlineData("sha256=")]
    [InlineData("sha256=abc")]
    [InlineData("sha256=zz55963fbb70d3cdbef4ff713ff63c7cdec2d09ccf25ba5843b43b4e312f12ca")]
    public async Task A_malformed_signature_is_invalid(string signature)
    {
        (await VerifyAsync(signature, Now, "GET", "/x", [])).Failure.ShouldBe("invalid signature");
    }

    [Fact]
    public async Task A_body_larger_than_one_read_is_signed_whole()
    {
        var body = new byte[100_000];
        Random.Shared.NextBytes(body);
        var signature = TestSigner.Sign(Key2, "PUT", "/x", Now, body);

        (await VerifyAsync(signature, Now, "PUT", "/x", body)).SecretId.ShouldBe("k2");
        body[^1] ^= 1;
        (await VerifyAsync(signature, Now, "PUT", "/x", body)).Failure.ShouldBe("invalid signature");
    }

    [Fact]
    public void The_replay_cache_refuses_an_accepted_signature_until_it_expires()
    {
        var cache = new HmacReplayCache(_time);
        var digest = Guid.NewGuid().ToString("N");

        cache.TryAccept(digest, Now + 300).ShouldBeTrue();
        cache.TryAccept(digest, Now + 300).ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(300));
        cache.TryAccept(digest, Now + 300).ShouldBeFalse("still inside the window at its last second");
        _time.Advance(TimeSpan.FromSeconds(1));
        cache.TryAccept(digest, Now + 601).ShouldBeTrue("the first acceptance expired with the window");
    }

    [Fact]
    public void The_replay_cache_forgets_expired_signatures()
    {
        var cache = new HmacReplayCache(_time);
        for (var i = 0; i < 1000; i++)
        {
            cache.TryAccept("old-" + i.ToString(CultureInfo.InvariantCulture), Now + 300).ShouldBeTrue();
        }

        cache.Count.ShouldBe(1000);
        _time.Advance(TimeSpan.FromSeconds(301));
        cache.TryAccept("new", Now + 601).ShouldBeTrue();

        cache.Count.ShouldBe(1, "every expired entry is swept once the window has passed");
    }

    [Fact]
    public void Distinct_signatures_are_each_accepted_once()
    {
        var cache = new HmacReplayCache(_time);

        cache.TryAccept("a", Now + 300).ShouldBeTrue();
        cache.TryAccept("b", Now + 300).ShouldBeTrue();
        cache.TryAccept("a", Now + 300).ShouldBeFalse();
        cache.TryAccept("b", Now + 300).ShouldBeFalse();
    }

    [Fact]
    public void Without_a_secret_no_scheme_is_registered()
    {
        var services = new ServiceCollection();

        services.AddAuthentication().AddHmacAuthentication(null).AddHmacAuthentication(new HmacOptions());

        services.ShouldNotContain(d => d.ServiceType == typeof(HmacSignature));
    }

    [Theory]
    [InlineData("", "a-secret-value", 300, "Sessiond:Auth:Hmac:Secrets:1:Id")]
    [InlineData("has space", "a-secret-value", 300, "Sessiond:Auth:Hmac:Secrets:1:Id")]
    [InlineData("k1", "a-secret-value", 300, "Sessiond:Auth:Hmac:Secrets:1:Id 'k1' is used by an earlier secret")]
    [InlineData("k2", "", 300, "Sessiond:Auth:Hmac:Secrets:1:Secret (id 'k2') is empty")]
    [InlineData("k2", "a-secret-value", 0, "Sessiond:Auth:Hmac:MaxSkewSeconds is 0")]
    public void Options_that_cannot_work_fail_at_start_with_the_fix_and_without_the_secret(string id, string secret, int skew, string expected)
    {
        var options = new HmacOptions { Secrets = [new() { Id = "k1", Secret = Key1 }, new() { Id = id, Secret = secret }], MaxSkewSeconds = skew };

        var error = Should.Throw<InvalidOperationException>(() => new ServiceCollection().AddAuthentication().AddHmacAuthentication(options));

        error.Message.ShouldContain(expected);
        error.Message.ShouldNotContain(Key1);
        if (secret.Length > 0)
        {
            error.Message.ShouldNotContain(secret);
        }
    }

    private Task<HmacVerification> VerifyAsync(string signature, long timestamp, string method, string target, byte[] body) =>
        VerifyAsync(_signature, signature, timestamp, method, target, body);

    private static async Task<HmacVerification> VerifyAsync(
        HmacSignature verifier, string signature, long timestamp, string method, string target, byte[] body)
    {
        await using var stream = new MemoryStream(body);
        return await verifier.VerifyAsync(
            signature, timestamp.ToString(CultureInfo.InvariantCulture), method, target, stream, CancellationToken.None);
    }

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
