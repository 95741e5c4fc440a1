using Microsoft.Extensions.Logging;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Runtime.Agents;
using Sessiond.Runtime.Models;
using Sessiond.Runtime.Tools;

namespace Sessiond.Runtime.Turns;

/// <summary>What turns run with; one instance per host.</summary>
public sealed record TurnServices(
    SessionService Sessions,
    ISessionStore Store,
    AgentCatalog Catalog,
    ModelClientFactory Models,
    ToolsetFactory Toolsets,
    TraceRecorder Traces,
    TimeProvider Time,
    ILogger Logger,
    ILiveBroadcaster? Live = null)
{
    /// <summary>How many steer messages may wait for the next model call.</summary>
    public int SteerCapacity { get; init; } = 16;

    /// <summary>This node's name in turn leases; nodes sharing one database need distinct ones.</summary>
    public string NodeId { get; init; } = Environment.MachineName;

    /// <summary>How long a turn lease lasts unless renewed; a running turn renews it every third of this.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);
}
