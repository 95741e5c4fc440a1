using Sessiond.Runtime.Agents;
using Sessiond.Runtime.Turns;

namespace Sessiond.Server.Runtime;

/// <summary>
/// Reports unusable agent files and repairs sessions a previous process left mid-turn, once the store is open; at
/// shutdown it cancels running turns (each records its interruption) before the store closes.
/// </summary>
public sealed partial class RuntimeLifetime(AgentCatalog catalog, TurnCoordinator turns, ILogger<RuntimeLifetime> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var error in catalog.Errors)
        {
            LogInvalidAgentFile(logger, error.Message);
        }

        LogApps(logger, string.Join(", ", catalog.AppNames));
        await turns.RecoverAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await turns.DisposeAsync();

    [LoggerMessage(EventId = 40, Level = LogLevel.Error, Message = "Agent file skipped: {Problem}")]
    private static partial void LogInvalidAgentFile(ILogger logger, string problem);

    [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "Apps with agents: {Apps}")]
    private static partial void LogApps(ILogger logger, string apps);
}
