using Sessiond.Core.Errors;
using Sessiond.Core.Sessions;

namespace Sessiond.Core.Access;

/// <summary>
/// The one set of rules on who may see and change which session. A session the caller may not see is reported as
/// missing (<c>session_not_found</c>), exactly like one that does not exist, so existence never leaks.
/// </summary>
public static class AccessPolicy
{
    public static bool MaySeeApp(Caller caller, string appName) => caller.Apps is null || caller.Apps.Contains(appName);

    public static bool MaySee(Caller caller, Session session)
    {
        if (!MaySeeApp(caller, session.AppName))
        {
            return false;
        }

        if (caller.IsAdmin)
        {
            return true;
        }

        return caller.UserId is { } user && session.UserId == user
            || session.Scope == SessionScope.Team && session.TeamId is { } team && caller.Teams.Contains(team);
    }

    /// <summary>The user a create is owned by: the caller's own user, unless an admin names another.</summary>
    public static string OwnerForCreate(Caller caller, string? requestedUserId)
    {
        if (caller.IsAdmin)
        {
            return requestedUserId ?? caller.UserId ?? throw SessionErrors.Invalid("'userId' is required.");
        }

        var user = RequireUser(caller);
        return requestedUserId is null || requestedUserId == user
            ? user
            : throw Forbidden("A session can only be created for the caller's own user.");
    }

    /// <summary>The user a non-admin acts as; a service that named none is refused.</summary>
    public static string RequireUser(Caller caller) =>
        caller.UserId ?? throw Forbidden(caller.Role == CallerRole.Service
            ? "A service must name the user it acts for (X-Forwarded-User)."
            : "The caller has no user.");

    public static void RequireApp(Caller caller, string appName)
    {
        if (!MaySeeApp(caller, appName))
        {
            throw Forbidden("The caller may not use this app.");
        }
    }

    /// <summary>What a list query may return to the caller, for the store to apply in its query.</summary>
    public static SessionVisibility VisibilityOf(Caller caller) =>
        caller.IsAdmin ? new(null, NoTeams, caller.Apps) : new(RequireUser(caller), caller.Teams, caller.Apps);

    private static readonly HashSet<string> NoTeams = [];

    public static SessiondException Forbidden(string message) => new(ErrorKind.Forbidden, ErrorCodes.Forbidden, message);
}
