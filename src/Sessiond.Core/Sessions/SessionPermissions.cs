namespace Sessiond.Core.Sessions;

/// <summary>Glob patterns over tool names that decide whether a tool call runs, asks first, or is refused.</summary>
public sealed record SessionPermissions(IReadOnlyList<string> Allow, IReadOnlyList<string> Ask, IReadOnlyList<string> Deny)
{
    public static readonly SessionPermissions Empty = new([], [], []);
}
