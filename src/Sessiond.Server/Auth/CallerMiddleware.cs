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
        context.SetCaller(resolver.Resolve(context));
        return next(context);
    }
}

/// <summary>Turns the authenticated principal into a <see cref="Caller"/>.</summary>
public sealed class CallerResolver
{
    public Caller Resolve(HttpContext context) => Caller.System;
}
