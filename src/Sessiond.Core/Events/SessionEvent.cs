using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sessiond.Core.Events;

/// <summary>
/// The only unit of history: ADK's event shape plus the store-assigned <see cref="Seq"/>.
/// Fields this type does not name (ADK adds new ones over time) round-trip through <see cref="Extra"/>.
/// </summary>
public sealed record SessionEvent
{
    /// <summary>Per-session position, assigned by the store at commit; 0 (and absent on the wire) until then and for partial events.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Seq { get; init; }

    public string? Id { get; init; }

    public string? InvocationId { get; init; }

    /// <summary><c>user</c>, an agent name, or <c>system</c>.</summary>
    public string? Author { get; init; }

    public DateTimeOffset? Timestamp { get; init; }

    public EventContent? Content { get; init; }

    public EventActions? Actions { get; init; }

    /// <summary>A streamed delta: live only, never stored.</summary>
    public bool? Partial { get; init; }

    public bool? TurnComplete { get; init; }

    public bool? Interrupted { get; init; }

    public string? ErrorCode { get; init; }

    public string? ErrorMessage { get; init; }

    public EventUsage? Usage { get; init; }

    public Dictionary<string, JsonElement>? Metadata { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}
