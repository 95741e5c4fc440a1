namespace Sessiond.Server.Tests;

/// <summary>
/// A server with an agents directory of its own: <c>team</c> (sub-agents two levels deep, a built-in and an MCP toolset)
/// and <c>slow</c> (an offline model that waits a minute before each word, so a turn stays running until cancelled).
/// </summary>
public sealed class AdkAgentsServer : SessiondServer
{
    public const string TeamApp = "team";
    public const string SlowApp = "slow";

    private readonly string _agentsDir = Path.Combine(Path.GetTempPath(), "sessiond-agents-" + Guid.NewGuid().ToString("N"));

    public AdkAgentsServer()
    {
        Directory.CreateDirectory(_agentsDir);
        File.WriteAllText(Path.Combine(_agentsDir, TeamApp + ".yaml"), """
            models:
              fast:
                provider: echo
            toolsets:
              kit:
                type: builtin
              search:
                type: mcp
                command: /bin/true
            agents:
              root:
                model: fast
                description: Hands work to the planner and the writer.
                tools: [kit]
                subAgents: [planner, writer]
              planner:
                model: fast
                tools: [search]
                subAgents: [researcher]
              researcher:
                model: fast
              writer:
                model: fast
            """);
        File.WriteAllText(Path.Combine(_agentsDir, SlowApp + ".yaml"), """
            models:
              slow:
                provider: echo
                chunkDelayMs: 60000
                timeoutSeconds: 600
            agents:
              root:
                model: slow
            """);
    }

    protected override string[] ExtraArgs => ["--agents-dir", _agentsDir];

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_agentsDir, recursive: true);
    }
}
