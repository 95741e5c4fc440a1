namespace Sessiond.Core.Sessions;

/// <summary>Who may see a session besides admins: its user, or the members of its team.</summary>
public static class SessionScope
{
    public const string User = "user";
    public const string Team = "team";

    public static bool IsValid(string value) => value is User or Team;
}
