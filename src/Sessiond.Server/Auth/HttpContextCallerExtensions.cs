using Sessiond.Core.Access;

namespace Sessiond.Server.Auth;

/// <summary>The caller of a request, as <see cref="CallerMiddleware"/> resolved it.</summary>
public static class HttpContextCallerExtensions
{
    private static readonly object Key = new();

    public static Caller Caller(this HttpContext context) =>
        context.Items.TryGetValue(Key, out var caller) && caller is Caller resolved
            ? resolved
            : throw new InvalidOperationException("No caller was resolved for this request; CallerMiddleware must run first.");

    internal static void SetCaller(this HttpContext context, Caller caller) => context.Items[Key] = caller;
}
