namespace Sessiond.Server.Auth;

/// <summary>
/// What <see cref="HmacSignature"/> made of a signed request: the id of the secret it verified under, or the reason it
/// did not (one of the fixed client-facing messages). Never holds a secret.
/// </summary>
public readonly record struct HmacVerification
{
    public const string MissingSignature = "missing X-Hub-Signature-256 header";
    public const string MissingTimestamp = "missing X-Timestamp header";
    public const string InvalidTimestamp = "invalid or expired timestamp";
    public const string InvalidSignature = "invalid signature";
    public const string Replayed = "replayed request";

    /// <summary>The id of the configured secret the signature verified under; null on failure.</summary>
    public string? SecretId { get; init; }

    /// <summary>Why verification failed; null on success.</summary>
    public string? Failure { get; init; }

    /// <summary>The request's <c>X-Timestamp</c> in unix seconds, once it was read.</summary>
    public long Timestamp { get; init; }

    /// <summary>The verified digest as lowercase hex: the replay cache's key. Null on failure.</summary>
    public string? Digest { get; init; }

    public bool Succeeded => SecretId is not null;

    public static HmacVerification Failed(string failure) => new() { Failure = failure };
}
