using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Runtime.Agents;
using Sessiond.Runtime.Models;
using Sessiond.Runtime.Tools;
using Sessiond.Runtime.Turns;
using Sessiond.Server.Hosting;

namespace Sessiond.Server.Runtime;

/// <summary>Wires the agent runtime into the host.</summary>
public static class RuntimeSetup
{
    public static IServiceCollection AddSessiondRuntime(this IServiceCollection services, AgentsOptions options, RuntimeOptions runtime)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(runtime);
        services.AddSingleton(_ => AgentCatalog.Load(options.Directory));
        services.AddSingleton(sp => new ModelClientFactory(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ToolsetFactory>();
        services.AddSingleton(sp => new TraceRecorder(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new TurnServices(
            sp.GetRequiredService<SessionService>(),
            sp.GetRequiredService<ISessionStore>(),
            sp.GetRequiredService<AgentCatalog>(),
            sp.GetRequiredService<ModelClientFactory>(),
            sp.GetRequiredService<ToolsetFactory>(),
            sp.GetRequiredService<TraceRecorder>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Sessiond.Runtime"),
            sp.GetRequiredService<ILiveBroadcaster>())
        {
            NodeId = runtime.NodeId ?? Environment.MachineName,
            LeaseDuration = TimeSpan.FromSeconds(runtime.LeaseSeconds),
        });
        services.AddSingleton<TurnCoordinator>();
        services.AddHostedService<RuntimeLifetime>();
        // Registered after the lifetime, so it stops first: no repair starts while running turns are being cancelled.
        services.AddHostedService<LeaseSweeper>();
        return services;
    }
}
