using System.IdentityModel.Tokens.Jwt;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Sessiond.Server.Tests;

/// <summary>
/// A server with static tokens for every kind of caller and a JWT signing key, so authorization can be checked as a
/// matrix. Rate limiting is high enough never to get in the way here.
/// </summary>
public class AuthServer : SessiondServer
{
    public const string AliceToken = "alice-token-0123456789";
    public const string BobToken = "bob-token-0123456789ab";
    public const string MemberToken = "member-token-012345678";
    public const string AdminToken = "admin-token-0123456789";
    public const string ServiceToken = "service-token-01234567";
    public const string NotesOnlyToken = "notes-only-token-01234";
    public const string JwtKey = "a-test-signing-key-of-at-least-32-bytes!";

    protected override string[] ExtraArgs =>
    [
        .. Token(0, AliceToken, "alice", ["user"], teams: ["red"]),
        .. Token(1, BobToken, "bob", ["user"]),
        .. Token(2, MemberToken, "mia", ["user"], teams: ["blue"]),
        .. Token(3, AdminToken, null, ["admin"]),
        .. Token(4, ServiceToken, null, ["service"]),
        .. Token(5, NotesOnlyToken, "nora", ["user"], apps: ["notes"]),
        "--Sessiond:Auth:Jwt:SigningKey=" + JwtKey,
        "--Sessiond:Auth:Jwt:Audience=sessiond-tests",
        "--Sessiond:RateLimit:PermitsPerSecond=10000",
        "--Sessiond:RateLimit:Burst=10000",
    ];

    /// <summary>A client that sends <paramref name="token"/> (or no credentials at all).</summary>
    public HttpClient ClientWith(string? token, string? forwardedUser = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (forwardedUser is not null)
        {
            client.DefaultRequestHeaders.Add("X-Forwarded-User", forwardedUser);
        }

        return client;
    }

    /// <summary>A signed JWT for <paramref name="user"/>, as an identity provider would issue it.</summary>
    public static string Jwt(string user, string[]? teams = null, string[]? roles = null, string audience = "sessiond-tests", string key = JwtKey)
    {
        var claims = new List<Claim> { new("sub", user) };
        claims.AddRange((teams ?? []).Select(t => new Claim("teams", t)));
        claims.AddRange((roles ?? []).Select(r => new Claim("roles", r)));
        var token = new JwtSecurityToken(
            audience: audience, claims: claims, expires: DateTime.UtcNow.AddMinutes(5),
            signingCredentials: new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256));
        return new JwtSecurityTokenHandler().WriteToken(token);
    }

    private static string[] Token(int i, string token, string? user, string[] roles, string[]? teams = null, string[]? apps = null)
    {
        var args = new List<string> { $"--Sessiond:Auth:Tokens:{i}:Token={token}" };
        if (user is not null)
        {
            args.Add($"--Sessiond:Auth:Tokens:{i}:UserId={user}");
        }

        args.AddRange(roles.Select((r, j) => $"--Sessiond:Auth:Tokens:{i}:Roles:{j}={r}"));
        args.AddRange((teams ?? []).Select((t, j) => $"--Sessiond:Auth:Tokens:{i}:Teams:{j}={t}"));
        args.AddRange((apps ?? []).Select((a, j) => $"--Sessiond:Auth:Tokens:{i}:Apps:{j}={a}"));
        return [.. args];
    }
}
