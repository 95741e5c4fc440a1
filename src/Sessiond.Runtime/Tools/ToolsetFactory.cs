using Sessiond.Runtime.Agents;

namespace Sessiond.Runtime.Tools;

/// <summary>Starts the toolsets an agent names, for one turn.</summary>
public class ToolsetFactory
{
    /// <summary>
    /// Starts <paramref name="definition"/>; the caller disposes the result when the turn ends. An MCP server that cannot
    /// start throws <see cref="ToolsetException"/>.
    /// </summary>
    public virtual async Task<IToolset> StartAsync(ToolsetDefinition definition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return definition.Type switch
        {
            ToolsetDefinition.Builtin => new BuiltinTools(),
            ToolsetDefinition.Mcp => await McpToolset.StartAsync(definition, cancellationToken),
            _ => throw new NotSupportedException($"Toolset type '{definition.Type}' is not available in this build."),
        };
    }
}
