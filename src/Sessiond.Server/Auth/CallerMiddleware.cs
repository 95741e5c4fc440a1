using System.Security.Claims;
using Sessiond.Core.Access;

namespace Sessiond.Server.Auth;

/// <summary>
/// Resolves who a request acts for, once, after authentication. With no authentication configured the server serves
/// loopback only and every request acts as <see cref="Caller.System"/>.
/// </summary>
public sealed class CallerMiddleware(RequestDelegate next, CallerResolver resolver)
{
    public Task InvokeAsync(HttpContext context)
    {
        context.SetCaller(resolver.Resolve(context.User));
        return next(context);
    }
}

/// <summary>Turns an authenticated principal carrying <see cref="SessiondClaims"/> into a <see cref="Caller"/>.</summary>
public sealed class CallerResolver(AuthOptions options)
{
    private static readonly Caller Anonymous = new() { Name = "anonymous" };

    public Caller Resolve(ClaimsPrincipal principal)
    {
        if (!options.IsConfigured)
        {
            return Caller.System;
        }

        if (principal.Identity?.IsAuthenticated != true)
        {
            return Anonymous;
        }

        var roles = principal.FindAll(SessiondClaims.Role).Select(c => c.Value).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var apps = principal.FindAll(SessiondClaims.App).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        return new Caller
        {
            UserId = principal.FindFirst(SessiondClaims.User)?.Value,
            Teams = principal.FindAll(SessiondClaims.Team).Select(c => c.Value).ToHashSet(StringComparer.Ordinal),
            Role = roles.Contains(SessiondClaims.RoleAdmin) ? CallerRole.Admin
                : roles.Contains(SessiondClaims.RoleService) ? CallerRole.Service
                : CallerRole.User,
            Apps = apps.Count == 0 ? null : apps,
            Name = principal.FindFirst(SessiondClaims.Name)?.Value ?? principal.FindFirst(SessiondClaims.User)?.Value ?? "authenticated",
        };
    }
}
