using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace Sessiond.Server.Auth;

/// <summary>
/// Verifies HMAC-signed requests of upstream session managers. The client sends
/// <c>X-Hub-Signature-256: sha256=&lt;lowercase hex HMAC-SHA256&gt;</c> and <c>X-Timestamp: &lt;unix seconds&gt;</c>;
/// the signature covers <c>UPPER(METHOD) "\n" TARGET "\n" TIMESTAMP "\n" BODY</c>, where TARGET is the path and query exactly
/// as sent, TIMESTAMP is the header's text, and BODY the raw bytes (an empty body still signs the newline before it).
/// A request verifies when the signature matches under any configured secret (several allow rotation) and the
/// timestamp is within <see cref="HmacOptions.MaxSkewSeconds"/> of the server's clock either way.
/// </summary>
public sealed class HmacSignature
{
    public const string SignatureHeader = AuthenticationSetup.SignatureHeader;
    public const string TimestampHeader = "X-Timestamp";
    public const string SignaturePrefix = "sha256=";

    private const int DigestBytes = 32;
    private const int ChunkBytes = 16 * 1024;

    private readonly (string Id, byte[] Key)[] _secrets;
    private readonly TimeProvider _time;

    public HmacSignature(HmacOptions options, TimeProvider time)
    {
        // Secrets are keyed by their UTF-8 bytes, as webhook signers (GitHub's included) use them.
        _secrets = [.. options.Secrets.Select(s => (s.Id, Encoding.UTF8.GetBytes(s.Secret)))];
        _time = time;
        MaxSkewSeconds = options.MaxSkewSeconds;
    }

    /// <summary>How far a timestamp may be from the server's clock, either way.</summary>
    public int MaxSkewSeconds { get; }

    /// <summary>
    /// Checks the headers, then the signature over the body, in the order that decides the failure message:
    /// missing signature, missing timestamp, invalid or expired timestamp, invalid signature. Reads
    /// <paramref name="body"/> to its end; the caller rewinds it. Replays are the caller's concern (<see cref="HmacReplayCache"/>).
    /// </summary>
    public async ValueTask<HmacVerification> VerifyAsync(
        StringValues signature, StringValues timestamp, string method, string target, Stream body, CancellationToken cancellationToken)
    {
        if (StringValues.IsNullOrEmpty(signature))
        {
            return HmacVerification.Failed(HmacVerification.MissingSignature);
        }

        if (StringValues.IsNullOrEmpty(timestamp))
        {
            return HmacVerification.Failed(HmacVerification.MissingTimestamp);
        }

        if (timestamp.Count != 1 || !TryReadFreshTimestamp(timestamp[0], out var seconds))
        {
            return HmacVerification.Failed(HmacVerification.InvalidTimestamp);
        }

        var digest = new byte[DigestBytes];
        if (signature.Count != 1 || !TryParseSignature(signature[0], digest))
        {
            return HmacVerification.Failed(HmacVerification.InvalidSignature);
        }

        var secretId = await FindSecretAsync(digest, method, target, timestamp[0]!, body, cancellationToken);
        return secretId is null
            ? HmacVerification.Failed(HmacVerification.InvalidSignature)
            : new HmacVerification { SecretId = secretId, Timestamp = seconds, Digest = Convert.ToHexStringLower(digest) };
    }

    /// <summary>True when <paramref name="value"/> is whole unix seconds (digits only) within the clock window.</summary>
    public bool TryReadFreshTimestamp(string? value, out long seconds)
    {
        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out seconds))
        {
            return false;
        }

        // Both are non-negative, so the difference cannot overflow.
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        return Math.Abs(now - seconds) <= MaxSkewSeconds;
    }

    /// <summary>
    /// Reads <c>sha256=</c> and exactly 64 lowercase hex digits into <paramref name="digest"/>. Anything else (uppercase
    /// hex, no prefix, another length) is not a signature: the signer signs one canonical form.
    /// </summary>
    public static bool TryParseSignature(string? value, Span<byte> digest)
    {
        if (value is null || value.Length != SignaturePrefix.Length + (2 * DigestBytes)
            || !value.StartsWith(SignaturePrefix, StringComparison.Ordinal) || digest.Length != DigestBytes)
        {
            return false;
        }

        var hex = value.AsSpan(SignaturePrefix.Length);
        if (hex.ContainsAnyExcept(LowerHex))
        {
            return false;
        }

        return Convert.FromHexString(hex, digest, out _, out var written) == OperationStatus.Done && written == DigestBytes;
    }

    /// <summary>The signature header value for a request: <c>sha256=</c> and the lowercase hex HMAC-SHA256.</summary>
    public static string Compute(ReadOnlySpan<byte> key, string method, string target, string timestamp, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(SignedHead(method, target, timestamp));
        hmac.AppendData(body);
        return SignaturePrefix + Convert.ToHexStringLower(hmac.GetHashAndReset());
    }

    /// <summary>The signed text before the body: <c>UPPER(METHOD)\nTARGET\nTIMESTAMP\n</c>, in UTF-8.</summary>
    public static byte[] SignedHead(string method, string target, string timestamp) =>
        Encoding.UTF8.GetBytes($"{method.ToUpperInvariant()}\n{target}\n{timestamp}\n");

    /// <summary>
    /// Hashes the request once per secret in a single pass over the body, and compares every digest in constant time.
    /// Every secret is tried, so the time taken does not tell which one matched.
    /// </summary>
    private async ValueTask<string?> FindSecretAsync(
        byte[] expected, string method, string target, string timestamp, Stream body, CancellationToken cancellationToken)
    {
        var hashes = new IncrementalHash[_secrets.Length];
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            var head = SignedHead(method, target, timestamp);
            for (var i = 0; i < hashes.Length; i++)
            {
                hashes[i] = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _secrets[i].Key);
                hashes[i].AppendData(head);
            }

            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, ChunkBytes), cancellationToken)) > 0)
            {
                foreach (var hash in hashes)
                {
                    hash.AppendData(buffer, 0, read);
                }
            }

            string? match = null;
            var actual = new byte[DigestBytes];
            for (var i = 0; i < hashes.Length; i++)
            {
                hashes[i].GetHashAndReset(actual);
                if (CryptographicOperations.FixedTimeEquals(actual, expected))
                {
                    match ??= _secrets[i].Id;
                }
            }

            return match;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            foreach (var hash in hashes)
            {
                hash?.Dispose();
            }
        }
    }

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");
}
