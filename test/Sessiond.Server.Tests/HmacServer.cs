using System.Globalization;
using System.Text;

namespace Sessiond.Server.Tests;

/// <summary>
/// A server that accepts HMAC-signed requests under two secrets (rotation), with pages of three sessions so that the
/// session-manager list has to page, and a 64 KiB body limit. Requests are signed by <see cref="TestSigner"/>, not by the production code.
/// </summary>
public sealed class HmacServer : SessiondServer
{
    public const string FirstSecret = "first-shared-secret";
    public const string SecondSecret = "second-shared-secret";
    public const int PageSize = 3;
    public const int MaxBodyBytes = 64 * 1024;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _sentSignatures = new();

    protected override string[] ExtraArgs =>
    [
        "--Sessiond:Auth:Hmac:Secrets:0:Id=k1",
        "--Sessiond:Auth:Hmac:Secrets:0:Secret=" + FirstSecret,
        "--Sessiond:Auth:Hmac:Secrets:1:Id=k2",
        "--Sessiond:Auth:Hmac:Secrets:1:Secret=" + SecondSecret,
        $"--Sessiond:Limits:MaxPageSize={PageSize}",
        $"--Sessiond:Limits:DefaultPageSize={PageSize}",
        $"--Sessiond:Limits:MaxRequestBodyBytes={MaxBodyBytes}",
        "--Sessiond:RateLimit:PermitsPerSecond=10000",
        "--Sessiond:RateLimit:Burst=10000",
    ];

    /// <summary>Sends <paramref name="call"/>, signed as it says.</summary>
    public async Task<HttpResponseMessage> SendAsync(SignedCall call)
    {
        var body = call.Body is null ? [] : Encoding.UTF8.GetBytes(call.Body);
        var timestamp = call.Timestamp ?? TestSigner.Now();
        string Sign() => TestSigner.Sign(
            call.Secret, call.SignedMethod ?? call.Method, call.SignedTarget ?? call.Target, call.SignedTimestamp ?? timestamp,
            call.SignedBody is null ? body : Encoding.UTF8.GetBytes(call.SignedBody));

        var signature = Sign();
        // Two identical requests in the same second carry the same signature, and the second is a replay. Like a
        // well-behaved upstream, the helper then signs with an earlier second (still inside the window), unless the
        // test chose the timestamp.
        while (!_sentSignatures.TryAdd(signature, 0) && call.Timestamp is null)
        {
            timestamp--;
            signature = Sign();
        }

        using var request = new HttpRequestMessage(new HttpMethod(call.Method), call.Target);
        if (call.Body is not null)
        {
            request.Content = new ByteArrayContent(body) { Headers = { { "Content-Type", "application/json" } } };
        }
        if (!call.OmitSignature)
        {
            request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", call.EditSignature?.Invoke(signature) ?? signature);
        }

        if (!call.OmitTimestamp)
        {
            request.Headers.TryAddWithoutValidation("X-Timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        }

        if (call.ForwardedUser is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-User", call.ForwardedUser);
        }

        if (call.ForwardedTeam is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-Team", call.ForwardedTeam);
        }

        return await Http.SendAsync(request);
    }
}

/// <summary>
/// One signed request: what is sent, and (for tampering) what was signed when it differs. The timestamp is now unless
/// given.
/// </summary>
public sealed record SignedCall(string Method, string Target)
{
    public string? Body { get; init; }

    public string Secret { get; init; } = HmacServer.FirstSecret;

    public long? Timestamp { get; init; }

    public string? ForwardedUser { get; init; }

    public string? ForwardedTeam { get; init; }

    public string? SignedMethod { get; init; }

    public string? SignedTarget { get; init; }

    public string? SignedBody { get; init; }

    public long? SignedTimestamp { get; init; }

    public Func<string, string>? EditSignature { get; init; }

    public bool OmitSignature { get; init; }

    public bool OmitTimestamp { get; init; }
}
