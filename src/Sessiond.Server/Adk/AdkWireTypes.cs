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

/// <summary>
/// ADK's <c>RunAgentRequest</c>, the body of <c>/run</c> and <c>/run_sse</c>. Like ADK's pydantic model it takes every
/// field in camelCase or snake_case; the camelCase spelling wins when a body has both.
/// </summary>
public sealed record AdkRunRequest
{
    public string? AppName { get; init; }

    [JsonPropertyName("app_name")]
    public string? AppNameSnakeCase { get; init; }

    public string? UserId { get; init; }

    [JsonPropertyName("user_id")]
    public string? UserIdSnakeCase { get; init; }

    public string? SessionId { get; init; }

    [JsonPropertyName("session_id")]
    public string? SessionIdSnakeCase { get; init; }

    /// <summary>A <c>Content</c>: <c>{role, parts}</c>.</summary>
    public JsonElement? NewMessage { get; init; }

    [JsonPropertyName("new_message")]
    public JsonElement? NewMessageSnakeCase { get; init; }

    public bool? Streaming { get; init; }

    public Dictionary<string, JsonElement>? StateDelta { get; init; }

    [JsonPropertyName("state_delta")]
    public Dictionary<string, JsonElement>? StateDeltaSnakeCase { get; init; }

    /// <summary>ADK's resume of a long-running call; Sessiond resumes paused turns through approvals instead.</summary>
    public string? InvocationId { get; init; }

    [JsonPropertyName("invocation_id")]
    public string? InvocationIdSnakeCase { get; init; }
}

/// <summary><c>GET /version</c>, as ADK's server answers it.</summary>
public sealed record AdkVersion(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("language")] string Language,
    [property: JsonPropertyName("language_version")] string LanguageVersion);

/// <summary>One entry of <c>GET /list-apps?detailed=true</c> (ADK's <c>AppInfo</c>).</summary>
public sealed record AdkAppInfo(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("root_agent_name")] string RootAgentName,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("language")] string Language,
    [property: JsonPropertyName("is_computer_use")] bool IsComputerUse);

/// <summary><c>GET /list-apps?detailed=true</c> (ADK's <c>ListAppsResponse</c>).</summary>
public sealed record AdkAppList([property: JsonPropertyName("apps")] IReadOnlyList<AdkAppInfo> Apps);
