using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sessiond.Core.Events;

/// <summary>A message: a role and its parts, as in ADK and Gemini's <c>Content</c>.</summary>
public sealed record EventContent
{
    /// <summary><c>user</c> or <c>model</c>.</summary>
    public string? Role { get; init; }

    public List<EventPart>? Parts { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>One part of a message. Kinds this type does not name (inline data, thoughts) round-trip through <see cref="Extra"/>.</summary>
public sealed record EventPart
{
    public string? Text { get; init; }

    public FunctionCall? FunctionCall { get; init; }

    public FunctionResponse? FunctionResponse { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>A model's request to call a tool.</summary>
public sealed record FunctionCall
{
    public string? Id { get; init; }

    public string? Name { get; init; }

    public JsonElement? Args { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>A tool's answer to a <see cref="FunctionCall"/>.</summary>
public sealed record FunctionResponse
{
    public string? Id { get; init; }

    public string? Name { get; init; }

    public JsonElement? Response { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}
