using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.IdentityModel.Tokens;

namespace Sessiond.Server.Auth;

/// <summary>
/// Wires authentication (static tokens, JWT, HMAC-signed requests, all optional and usable at once), the rule that
/// every route but health needs a caller once any scheme is configured, per-caller rate limiting, and CORS.
/// </summary>
public static class AuthenticationSetup
{
    /// <summary>The scheme every request goes through; it forwards to the scheme its credentials name.</summary>
    public const string SelectorScheme = "sessiond";

    public const string JwtScheme = "jwt";

    /// <summary>The scheme of HMAC-signed requests, and the header that carries their signature.</summary>
    public const string HmacScheme = "hmac";

    public const string SignatureHeader = "X-Hub-Signature-256";

    public static void AddSessiondAuthentication(this IServiceCollection services, AuthOptions auth, RateLimitOptions rateLimit, CorsOptions cors)
    {
        services.AddSingleton(auth);
        services.AddSingleton(new AuthPipeline(cors.AllowedOrigins.Count > 0, auth.IsConfigured && rateLimit.PermitsPerSecond > 0));
        services.AddSingleton<StaticTokenSet>();
        services.AddSingleton<CallerResolver>();
        if (cors.AllowedOrigins.Count > 0)
        {
            services.AddCors(options => options.AddDefaultPolicy(policy => policy
                .WithOrigins([.. cors.AllowedOrigins]).AllowAnyHeader().AllowAnyMethod().WithExposedHeaders("Location", "Retry-After")));
        }

        if (!auth.IsConfigured)
        {
            services.AddAuthentication();
            services.AddAuthorization();
            return;
        }

        var schemes = services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "Sessiond", options => options.ForwardDefaultSelector = context => Select(context, auth));
        if (auth.Tokens.Count > 0)
        {
            schemes.AddScheme<AuthenticationSchemeOptions, StaticTokenHandler>(StaticTokenHandler.SchemeName, null);
        }

        if (auth.Jwt is { } jwt)
        {
            schemes.AddJwtBearer(JwtScheme, options => ConfigureJwt(options, jwt));
        }

        services.AddAuthorization(options =>
            options.FallbackPolicy = new AuthorizationPolicyBuilder(SelectorScheme).RequireAuthenticatedUser().Build());

        if (rateLimit.PermitsPerSecond > 0)
        {
            if (rateLimit.Burst < 1)
            {
                throw new InvalidOperationException("Sessiond:RateLimit:Burst must be at least 1 (default 200).");
            }

            services.AddRateLimiter(options =>
            {
                options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
                options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    RateLimitPartition.GetTokenBucketLimiter(PartitionKey(context), _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = rateLimit.Burst,
                        TokensPerPeriod = rateLimit.PermitsPerSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    }));
                options.OnRejected = (context, cancellationToken) => WriteRejectedAsync(context, cancellationToken);
            });
        }
    }

    /// <summary>The pipeline half: CORS, authentication, authorization, the caller, then rate limiting by caller.</summary>
    public static void UseSessiondAuthentication(this WebApplication app)
    {
        var pipeline = app.Services.GetRequiredService<AuthPipeline>();
        if (pipeline.Cors)
        {
            app.UseCors();
        }

        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<CallerMiddleware>();
        if (pipeline.RateLimit)
        {
            app.UseRateLimiter();
        }
    }

    /// <summary>Which optional middleware the configuration turned on.</summary>
    private sealed record AuthPipeline(bool Cors, bool RateLimit);

    /// <summary>Signed requests (and every request of the signed API) go to HMAC; JWT-shaped bearer tokens to JWT; others to the static tokens.</summary>
    private static string Select(HttpContext context, AuthOptions auth)
    {
        if (auth.Hmac is { Secrets.Count: > 0 }
            && (context.Request.Headers.ContainsKey(SignatureHeader)
                || context.Request.Path.StartsWithSegments("/api/v1/sessions")))
        {
            return HmacScheme;
        }

        var token = BearerToken.From(context.Request);
        if (auth.Jwt is not null && (auth.Tokens.Count == 0 || token?.Count(c => c == '.') == 2))
        {
            return JwtScheme;
        }

        return auth.Tokens.Count > 0 ? StaticTokenHandler.SchemeName : HmacScheme;
    }

    private static string PartitionKey(HttpContext context) =>
        context.User.Identity?.IsAuthenticated == true
            ? "caller:" + context.Caller().Name + ":" + context.Caller().UserId
            : "ip:" + context.Connection.RemoteIpAddress;

    private static async ValueTask WriteRejectedAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
        context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var problems = context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context.HttpContext,
            ProblemDetails = { Status = 429, Title = "Too many requests; retry after the time in Retry-After.", Extensions = { ["code"] = "rate_limited" } },
        });
    }

    private static void ConfigureJwt(JwtBearerOptions options, JwtOptions jwt)
    {
        options.MapInboundClaims = false;
        if (jwt.Authority is { } authority)
        {
            options.Authority = authority;
            options.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
        }

        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateAudience = jwt.Audience is not null,
            ValidAudience = jwt.Audience,
            ValidateIssuer = jwt.Issuer is not null,
            ValidIssuer = jwt.Issuer,
            IssuerSigningKey = jwt.SigningKey is { } key ? new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)) : null,
            NameClaimType = jwt.UserClaim,
        };
        options.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                if (context.Principal?.Identity is ClaimsIdentity identity)
                {
                    identity.AddClaims(JwtClaims(identity, jwt, context.Request));
                }

                return Task.CompletedTask;
            },
        };
    }

    /// <summary>Sessiond's claims from a validated token: the user claim, and team, role and app claims (arrays or single values).</summary>
    private static List<Claim> JwtClaims(ClaimsIdentity identity, JwtOptions jwt, HttpRequest request)
    {
        IEnumerable<string> Values(string type) => identity.FindAll(type).SelectMany(c => c.Value.StartsWith('[') ? ParseArray(c.Value) : [c.Value]);
        var roles = Values(jwt.RolesClaim).ToList();
        var claims = new List<Claim> { new(SessiondClaims.Name, "jwt:" + (identity.FindFirst(jwt.UserClaim)?.Value ?? "?")) };
        claims.AddRange((roles.Count == 0 ? [SessiondClaims.RoleUser] : roles).Select(r => new Claim(SessiondClaims.Role, r)));
        claims.AddRange(Values(jwt.AppsClaim).Select(a => new Claim(SessiondClaims.App, a)));
        if (roles.Contains(SessiondClaims.RoleService))
        {
            claims.AddRange(ForwardedIdentity.Claims(request));
        }
        else
        {
            if (identity.FindFirst(jwt.UserClaim)?.Value is { } user)
            {
                claims.Add(new Claim(SessiondClaims.User, user));
            }

            claims.AddRange(Values(jwt.TeamsClaim).Select(t => new Claim(SessiondClaims.Team, t)));
        }

        return claims;
    }

    private static IEnumerable<string> ParseArray(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, Http.ServerJsonContext.Default.ListString) ?? [];
        }
        catch (JsonException)
        {
            return [json];
        }
    }
}

/// <summary>The <c>Sessiond:RateLimit</c> section: a token bucket per caller, on while authentication is configured.</summary>
public sealed record RateLimitOptions
{
    /// <summary>Requests per second each caller may sustain; 0 turns rate limiting off.</summary>
    public int PermitsPerSecond { get; init; } = 100;

    /// <summary>The burst a caller may spend at once.</summary>
    public int Burst { get; init; } = 200;
}

/// <summary>The <c>Sessiond:Cors</c> section: off unless origins are listed.</summary>
public sealed record CorsOptions
{
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];
}
