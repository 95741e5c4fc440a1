namespace Sessiond.Server.Auth;

/// <summary>
/// The claims every authentication scheme of Sessiond puts on its principal, so that one <see cref="CallerResolver"/>
/// turns any of them into a <see cref="Core.Access.Caller"/>.
/// </summary>
public static class SessiondClaims
{
    /// <summary>The user the request acts as (at most one).</summary>
    public const string User = "sessiond:user";

    /// <summary>A team the caller belongs to (any number).</summary>
    public const string Team = "sessiond:team";

    /// <summary><c>admin</c>, <c>user</c> or <c>service</c> (the highest one wins).</summary>
    public const string Role = "sessiond:role";

    /// <summary>An app the caller is limited to (any number; none means every app).</summary>
    public const string App = "sessiond:app";

    /// <summary>A non-secret name of the credential, for logs and rate-limit partitions.</summary>
    public const string Name = "sessiond:name";

    public const string RoleAdmin = "admin";
    public const string RoleUser = "user";
    public const string RoleService = "service";
}
