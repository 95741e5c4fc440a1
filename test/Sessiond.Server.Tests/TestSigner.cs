using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Sessiond.Server.Tests;

/// <summary>
/// A signer of HMAC-signed requests written from the contract alone, apart from the production
/// <c>HmacSignature</c>: <c>sha256=</c> and the lowercase hex HMAC-SHA256 of
/// <c>UPPER(METHOD)\nPATH[?QUERY]\nTIMESTAMP\nBODY</c> under the secret's UTF-8 bytes.
/// </summary>
public static class TestSigner
{
    public static string Sign(string secret, string method, string target, long timestamp, byte[] body)
    {
        var head = Encoding.UTF8.GetBytes(
            method.ToUpperInvariant() + "\n" + target + "\n" + timestamp.ToString(CultureInfo.InvariantCulture) + "\n");
        var message = new byte[head.Length + body.Length];
        head.CopyTo(message, 0);
        body.CopyTo(message, head.Length);
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }

    public static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
