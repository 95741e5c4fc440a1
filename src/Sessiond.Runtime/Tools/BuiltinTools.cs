using System.Text.Json;

namespace Sessiond.Runtime.Tools;

/// <summary>The built-in toolset: read and write session state, and tell the time.</summary>
public sealed class BuiltinTools : IToolset
{
    /// <summary>How many tools the set holds.</summary>
    public const int Count = 3;

    public IReadOnlyList<IAgentTool> Tools { get; } = [new GetState(), new SetState(), new CurrentTime()];

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static JsonElement Schema(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private sealed class GetState : IAgentTool
    {
        public string Name => "get_state";

        public string Description => "Reads a key of the session state (prefix app:, user: or temp: for other scopes).";

        public JsonElement ParametersSchema { get; } =
            Schema("""{"type":"object","properties":{"key":{"type":"string"}},"required":["key"]}""");

        public Task<ToolResult> InvokeAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
        {
            if (!TryString(arguments, "key", out var key))
            {
                return Task.FromResult(ToolResult.Failure("'key' must be a string."));
            }

            JsonElement? value = context.State.TryGetValue(key, out var found) ? found : null;
            return Task.FromResult(new ToolResult(JsonSerializer.SerializeToElement(new { key, value })));
        }
    }

    private sealed class SetState : IAgentTool
    {
        public string Name => "set_state";

        public string Description => "Sets a key of the session state to a JSON value; null deletes it. temp: keys last for this turn.";

        public JsonElement ParametersSchema { get; } =
            Schema("""{"type":"object","properties":{"key":{"type":"string"},"value":{}},"required":["key","value"]}""");

        public Task<ToolResult> InvokeAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
        {
            if (!TryString(arguments, "key", out var key) || key.Length == 0 || !arguments.TryGetProperty("value", out var value))
            {
                return Task.FromResult(ToolResult.Failure("'key' must be a non-empty string and 'value' must be given."));
            }

            return Task.FromResult(new ToolResult(
                JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["status"] = "ok" }),
                new Dictionary<string, JsonElement> { [key] = value.Clone() }));
        }
    }

    private sealed class CurrentTime : IAgentTool
    {
        public string Name => "current_time";

        public string Description => "Returns the current time in UTC, as ISO 8601.";

        public JsonElement ParametersSchema { get; } = Schema("""{"type":"object","properties":{}}""");

        public Task<ToolResult> InvokeAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken) =>
            Task.FromResult(new ToolResult(JsonSerializer.SerializeToElement(new Dictionary<string, string>
            {
                ["utc"] = context.Time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
            })));
    }

    private static bool TryString(JsonElement arguments, string name, out string value)
    {
        value = "";
        if (arguments.ValueKind == JsonValueKind.Object && arguments.TryGetProperty(name, out var element) &&
            element.ValueKind == JsonValueKind.String)
        {
            value = element.GetString()!;
            return true;
        }

        return false;
    }
}
