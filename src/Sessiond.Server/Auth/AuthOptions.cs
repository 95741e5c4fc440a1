namespace Sessiond.Server.Auth;

/// <summary>The <c>Sessiond:Auth</c> section. Every scheme is optional, and any may be on at once.</summary>
public sealed record AuthOptions
{
    /// <summary>Static bearer tokens.</summary>
    public IReadOnlyList<StaticTokenOptions> Tokens { get; init; } = [];

    /// <summary>JWT bearer (OIDC); null when off.</summary>
    public JwtOptions? Jwt { get; init; }

    /// <summary>HMAC-signed requests of upstream session managers; null when off.</summary>
    public HmacOptions? Hmac { get; init; }

    /// <summary>True when at least one scheme is configured; otherwise the server serves loopback only.</summary>
    public bool IsConfigured => Tokens.Count > 0 || Jwt is not null || Hmac is { Secrets.Count: > 0 };
}

/// <summary>One static bearer token. Give <see cref="TokenSha256"/> (hex) rather than <see cref="Token"/> to keep the secret out of config.</summary>
public sealed record StaticTokenOptions
{
    /// <summary>The token itself; never logged.</summary>
    public string? Token { get; init; }

    /// <summary>The lowercase hex SHA-256 of the token.</summary>
    public string? TokenSha256 { get; init; }

    public string? UserId { get; init; }

    public IReadOnlyList<string> Teams { get; init; } = [];

    /// <summary><c>admin</c>, <c>user</c> or <c>service</c>; none means <c>user</c>.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>The apps this token may use; empty for every app.</summary>
    public IReadOnlyList<string> Apps { get; init; } = [];

    /// <summary>A non-secret name for logs; defaults to the user or "token N".</summary>
    public string? Name { get; init; }
}

/// <summary>JWT bearer validation: an OIDC authority and audience, or a symmetric signing key.</summary>
public sealed record JwtOptions
{
    public string? Authority { get; init; }

    public string? Audience { get; init; }

    public string? Issuer { get; init; }

    /// <summary>A symmetric HS256 key (at least 32 bytes), instead of an authority; never logged.</summary>
    public string? SigningKey { get; init; }

    /// <summary>The claim that names the user.</summary>
    public string UserClaim { get; init; } = "sub";

    public string TeamsClaim { get; init; } = "teams";

    public string RolesClaim { get; init; } = "roles";

    public string AppsClaim { get; init; } = "apps";

    /// <summary>Allow an authority over plain http (tests and local identity providers only).</summary>
    public bool RequireHttpsMetadata { get; init; } = true;
}

/// <summary>HMAC-signed requests: secrets with ids (several, for rotation) and the clock window.</summary>
public sealed record HmacOptions
{
    public IReadOnlyList<HmacSecretOptions> Secrets { get; init; } = [];

    /// <summary>How far <c>X-Timestamp</c> may be from the server's clock, either way.</summary>
    public int MaxSkewSeconds { get; init; } = 300;
}

/// <summary>One HMAC secret; never logged.</summary>
public sealed record HmacSecretOptions
{
    public string Id { get; init; } = "";

    public string Secret { get; init; } = "";
}
