using System.Text.Json;

namespace Sessiond.Runtime.Tools;

/// <summary>A tool a model may call: built in, or served by an MCP server.</summary>
public interface IAgentTool
{
    string Name { get; }

    string Description { get; }

    /// <summary>The JSON schema of the arguments object.</summary>
    JsonElement ParametersSchema { get; }

    /// <summary>Runs the call. A failure the model should see is a result with an <c>error</c> field, not an exception.</summary>
    Task<ToolResult> InvokeAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken);
}
