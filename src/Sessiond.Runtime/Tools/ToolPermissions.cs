using Sessiond.Core.Sessions;
using Sessiond.Runtime.Agents;

namespace Sessiond.Runtime.Tools;

/// <summary>What happens to a tool call: run it, ask the user first, or refuse it.</summary>
public enum ToolDecision
{
    Allow,
    Ask,
    Deny,
}

/// <summary>
/// Decides tool calls from the app's rules and the session's own (which <c>approve_always</c> extends). Deny wins,
/// then allow, then ask; a tool no pattern names runs. Patterns are globs where <c>*</c> matches any run of characters
/// and <c>?</c> one character.
/// </summary>
public static class ToolPermissions
{
    public static ToolDecision Decide(string toolName, PermissionRules app, SessionPermissions session)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(session);
        if (AnyMatch(app.Deny, toolName) || AnyMatch(session.Deny, toolName))
        {
            return ToolDecision.Deny;
        }

        if (AnyMatch(app.Allow, toolName) || AnyMatch(session.Allow, toolName))
        {
            return ToolDecision.Allow;
        }

        return AnyMatch(app.Ask, toolName) || AnyMatch(session.Ask, toolName) ? ToolDecision.Ask : ToolDecision.Allow;
    }

    private static bool AnyMatch(IReadOnlyList<string> patterns, string name)
    {
        foreach (var pattern in patterns)
        {
            if (Glob(pattern, name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Iterative glob match with backtracking to the last <c>*</c>; linear for the patterns tool names use.</summary>
    internal static bool Glob(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
