using System.Text.Json;
using System.Text.Json.Serialization;
using Sessiond.Core.Events;

namespace Sessiond.Server.Adk;

/// <summary>ADK's create-session body; ADK accepts both <c>sessionId</c> and <c>session_id</c>.</summary>
public sealed record AdkCreateSessionRequest
{
    public string? SessionId { get; init; }

    [JsonPropertyName("session_id")]
    public string? SessionIdSnakeCase { get; init; }

    public Dictionary<string, JsonElement>? State { get; init; }

    public List<SessionEvent>? Events { get; init; }
}

/// <summary>ADK's update-session body: a state delta recorded as a user-authored event.</summary>
public sealed record AdkUpdateSessionRequest
{
    public Dictionary<string, JsonElement>? StateDelta { get; init; }

    [JsonPropertyName("state_delta")]
    public Dictionary<string, JsonElement>? StateDeltaSnakeCase { get; init; }
}

/// <summary>ADK's (FastAPI's) error body, plus Sessiond's stable <c>code</c>.</summary>
public sealed record AdkError(string Detail, string Code);
