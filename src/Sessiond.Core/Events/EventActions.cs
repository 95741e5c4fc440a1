using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sessiond.Core.Events;

/// <summary>What an event does besides carrying content; <see cref="StateDelta"/> is the only way state changes.</summary>
public sealed record EventActions
{
    /// <summary>Keys to set; a JSON <c>null</c> deletes the key. Prefixes choose the scope (see <see cref="State.StateKeys"/>).</summary>
    public Dictionary<string, JsonElement>? StateDelta { get; init; }

    public Dictionary<string, JsonElement>? ArtifactDelta { get; init; }

    public string? TransferToAgent { get; init; }

    public bool? Escalate { get; init; }

    public Dictionary<string, JsonElement>? RequestedToolConfirmations { get; init; }

    public JsonElement? RequestedInput { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}
