namespace Sessiond.Core.Access;

/// <summary>
/// Who a request acts for: the user it may act as, the teams it belongs to, its role, and the apps it is limited to.
/// Every domain operation takes one, and <see cref="AccessPolicy"/> decides what it may see and change.
/// </summary>
public sealed record Caller
{
    /// <summary>The user this caller acts as; null for an admin or a service that names no user.</summary>
    public string? UserId { get; init; }

    public IReadOnlySet<string> Teams { get; init; } = EmptySet;

    public CallerRole Role { get; init; } = CallerRole.User;

    /// <summary>The apps this caller may touch; null for every app.</summary>
    public IReadOnlySet<string>? Apps { get; init; }

    /// <summary>A short, non-secret description for logs (never a token).</summary>
    public string Name { get; init; } = "anonymous";

    /// <summary>
    /// The server itself, and every request while no authentication is configured (the server then serves loopback
    /// only): sees and changes everything.
    /// </summary>
    public static readonly Caller System = new() { Role = CallerRole.Admin, Name = "system" };

    public bool IsAdmin => Role == CallerRole.Admin;

    private static readonly HashSet<string> EmptySet = [];
}

/// <summary>What a caller is allowed as a matter of role.</summary>
public enum CallerRole
{
    /// <summary>Acts on its own sessions and its teams' sessions.</summary>
    User,
    /// <summary>Sees and changes every session (within its apps).</summary>
    Admin,
    /// <summary>A trusted upstream that acts for the user it names per request.</summary>
    Service,
}
