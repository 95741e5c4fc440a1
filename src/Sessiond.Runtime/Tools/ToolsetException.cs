namespace Sessiond.Runtime.Tools;

/// <summary>
/// A toolset that could not start or stopped working. The turn ends with an error event carrying <see cref="Code"/>;
/// the message names the toolset and, for MCP servers, the command.
/// </summary>
public sealed class ToolsetException(string toolset, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The error code of the event the turn ends with.</summary>
    public const string Code = "tool_error";

    /// <summary>The toolset's name from the app's <c>toolsets</c>.</summary>
    public string Toolset { get; } = toolset;
}
