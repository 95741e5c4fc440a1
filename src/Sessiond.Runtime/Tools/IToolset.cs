namespace Sessiond.Runtime.Tools;

/// <summary>Tools started for one turn and stopped when it ends (an MCP server process, or the built-ins).</summary>
public interface IToolset : IAsyncDisposable
{
    IReadOnlyList<IAgentTool> Tools { get; }
}
