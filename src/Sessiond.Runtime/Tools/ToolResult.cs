using System.Text.Json;

namespace Sessiond.Runtime.Tools;

/// <summary>What a tool call returns to the model, and the state changes it makes (recorded on the response event).</summary>
public sealed record ToolResult(JsonElement Response, IReadOnlyDictionary<string, JsonElement>? StateDelta = null)
{
    /// <summary>A result that tells the model the call failed and why.</summary>
    public static ToolResult Failure(string message) =>
        new(JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["error"] = message }));
}
