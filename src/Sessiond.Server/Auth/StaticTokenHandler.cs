using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Sessiond.Server.Auth;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;token&gt;</c> against the configured static tokens. Tokens are compared as
/// SHA-256 digests in constant time, every configured token is checked whatever matched, and no token is ever logged.
/// </summary>
public sealed class StaticTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, StaticTokenSet tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "token";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerToken.From(Request) is not { } token)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var match = tokens.Find(token);
        if (match is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("invalid token"));
        }

        var claims = new List<Claim> { new(SessiondClaims.Name, match.Name) };
        claims.AddRange((match.Options.Roles.Count == 0 ? [SessiondClaims.RoleUser] : match.Options.Roles)
            .Select(role => new Claim(SessiondClaims.Role, role)));
        claims.AddRange(match.Options.Apps.Select(app => new Claim(SessiondClaims.App, app)));
        if (match.Options.Roles.Contains(SessiondClaims.RoleService))
        {
            // A service acts for the user (and teams) it names on each request.
            claims.AddRange(ForwardedIdentity.Claims(Request));
        }
        else
        {
            if (match.Options.UserId is { } user)
            {
                claims.Add(new Claim(SessiondClaims.User, user));
            }

            claims.AddRange(match.Options.Teams.Select(team => new Claim(SessiondClaims.Team, team)));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, SessiondClaims.Name, SessiondClaims.Role));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"sessiond\"";
        return Task.CompletedTask;
    }
}

/// <summary>The configured static tokens, kept only as SHA-256 digests.</summary>
public sealed class StaticTokenSet
{
    private readonly (byte[] Digest, StaticTokenMatch Match)[] _tokens;

    public StaticTokenSet(AuthOptions options)
    {
        _tokens = [.. options.Tokens.Select((token, i) => (Digest(token, i), new StaticTokenMatch(token, token.Name ?? token.UserId ?? $"token {i + 1}")))];
    }

    /// <summary>The token's entry, or null; compares against every entry in constant time.</summary>
    public StaticTokenMatch? Find(string token)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        StaticTokenMatch? found = null;
        foreach (var (expected, match) in _tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, expected))
            {
                found ??= match;
            }
        }

        return found;
    }

    private static byte[] Digest(StaticTokenOptions token, int index)
    {
        if (token.TokenSha256 is { } hex)
        {
            try
            {
                var digest = Convert.FromHexString(hex);
                if (digest.Length == 32)
                {
                    return digest;
                }
            }
            catch (FormatException)
            {
                // Reported below.
            }

            throw new InvalidOperationException($"Sessiond:Auth:Tokens:{index}:TokenSha256 must be 64 hex digits (the SHA-256 of the token).");
        }

        return token.Token is { Length: >= 16 } plain
            ? SHA256.HashData(Encoding.UTF8.GetBytes(plain))
            : throw new InvalidOperationException($"Sessiond:Auth:Tokens:{index} needs TokenSha256, or a Token of at least 16 characters.");
    }
}

/// <summary>A matched static token and its non-secret name.</summary>
public sealed record StaticTokenMatch(StaticTokenOptions Options, string Name);

/// <summary>Reads a bearer token from the <c>Authorization</c> header.</summary>
public static class BearerToken
{
    public static string? From(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && header.Length > 7 ? header[7..].Trim() : null;
    }
}

/// <summary>The identity a trusted upstream names per request: <c>X-Forwarded-User</c> and <c>X-Forwarded-Team</c>.</summary>
public static class ForwardedIdentity
{
    public static IEnumerable<Claim> Claims(HttpRequest request)
    {
        if (request.Headers["X-Forwarded-User"].ToString() is { Length: > 0 } user)
        {
            yield return new Claim(SessiondClaims.User, user.Trim());
        }

        foreach (var value in request.Headers["X-Forwarded-Team"])
        {
            foreach (var team in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                yield return new Claim(SessiondClaims.Team, team);
            }
        }
    }
}
