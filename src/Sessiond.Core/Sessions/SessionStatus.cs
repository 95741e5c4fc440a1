namespace Sessiond.Core.Sessions;

/// <summary>The run status of a session.</summary>
public static class SessionStatus
{
    public const string Idle = "idle";
    public const string Running = "running";
    public const string Waiting = "waiting";
    public const string Failed = "failed";

    public static bool IsValid(string value) => value is Idle or Running or Waiting or Failed;
}
