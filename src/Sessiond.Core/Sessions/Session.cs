using System.Text.Json;
using Sessiond.Core.Events;

namespace Sessiond.Core.Sessions;

/// <summary>A session as clients see it: its fields and its merged state (session, <c>user:</c> and <c>app:</c> keys).</summary>
public sealed record Session
{
    public required string Id { get; init; }

    public required string AppName { get; init; }

    public required string UserId { get; init; }

    public string? TeamId { get; init; }

    /// <summary><see cref="SessionScope.User"/> or <see cref="SessionScope.Team"/>.</summary>
    public string Scope { get; init; } = SessionScope.User;

    public string? Title { get; init; }

    /// <summary>One of <see cref="SessionStatus"/>.</summary>
    public string Status { get; init; } = SessionStatus.Idle;

    public IReadOnlyDictionary<string, JsonElement> State { get; init; } = EmptyMap;

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The sequence number of the newest committed event; 0 for none.</summary>
    public long LastSeq { get; init; }

    public bool Starred { get; init; }

    public IReadOnlyDictionary<string, JsonElement> Metadata { get; init; } = EmptyMap;

    public EventUsage Usage { get; init; } = EventUsage.Zero;

    /// <summary>The agent that runs turns; null until the runtime picks one.</summary>
    public string? Agent { get; init; }

    public string? ModelOverride { get; init; }

    public SessionPermissions Permissions { get; init; } = SessionPermissions.Empty;

    /// <summary>The turn lease a run-state change just took; null otherwise. Internal to the runtime, never on the wire.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Ports.TurnLease? Lease { get; init; }

    internal static readonly IReadOnlyDictionary<string, JsonElement> EmptyMap = new Dictionary<string, JsonElement>();
}
