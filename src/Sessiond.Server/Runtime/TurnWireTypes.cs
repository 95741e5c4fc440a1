using System.Text.Json;

namespace Sessiond.Server.Runtime;

/// <summary><c>POST /v1/sessions/{id}/turns</c>: <c>input</c> is text, a list of parts, or <c>{parts}</c>.</summary>
public sealed record TurnRequestBody(JsonElement? Input, string? Agent, string? Model, string? Mode);

/// <summary><c>steer</c> and <c>followups</c> bodies.</summary>
public sealed record InputBody(JsonElement? Input);

/// <summary><c>POST /v1/sessions/{id}/approvals</c>.</summary>
public sealed record ApprovalBody(string? ToolCallId, string? Decision, string? Reason);

/// <summary><c>POST /v1/sessions/{id}/elicitations/{elicitationId}</c>.</summary>
public sealed record ElicitationBody(string? Action, JsonElement? Content);

/// <summary>202 answer of a started or queued turn.</summary>
public sealed record TurnAccepted(string InvocationId, string Status);

/// <summary>202 answer of a follow-up: <c>queued</c>, <c>started</c> or <c>duplicate</c>.</summary>
public sealed record FollowupAccepted(string Status);

/// <summary>Answer of an approval: <c>resumed</c>, <c>pending</c> (other calls still wait) or <c>already_decided</c>.</summary>
public sealed record ApprovalAccepted(string Status);

/// <summary><c>GET /v1/apps/{app}/agents</c>.</summary>
public sealed record AgentsResponse(string AppName, IReadOnlyList<AgentSummary> Agents, IReadOnlyList<string> Models);

/// <summary>One agent of an app.</summary>
public sealed record AgentSummary(string Name, string Model, string? Description, IReadOnlyList<string> Toolsets, int ToolCount, IReadOnlyList<string> SubAgents);

/// <summary>The last frame of a streamed turn.</summary>
public sealed record TurnEndFrame(string InvocationId, string Status);
