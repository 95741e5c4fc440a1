namespace Sessiond.Server.SessionManager;

/// <summary>
/// <c>POST /api/v1/sessions</c>: agentapi-proxy's SessionSettings. Fields this type does not name (<c>env</c> among
/// them) are ignored.
/// </summary>
public sealed record SessionSettings
{
    public SessionSpec? Session { get; init; }

    /// <summary>Stored as the session's first user event, until the agent runtime starts a turn with it.</summary>
    public string? InitialMessage { get; init; }
}

/// <summary>The <c>session</c> member of <see cref="SessionSettings"/>.</summary>
public sealed record SessionSpec
{
    /// <summary>The session id to use; a new one when absent.</summary>
    public string? Id { get; init; }

    /// <summary>The owner; required.</summary>
    public string? UserId { get; init; }

    /// <summary><c>user</c> (the default) or <c>team</c>.</summary>
    public string? Scope { get; init; }

    public string? TeamId { get; init; }

    /// <summary>The app (and so the agent) of the session; <see cref="SignedSessionManagerApi.DefaultAgentType"/> when absent.</summary>
    public string? AgentType { get; init; }
}

/// <summary><c>POST /api/v1/sessions</c>: 201 with the new session's id.</summary>
public sealed record CreatedSession(string SessionId);

/// <summary><c>GET /api/v1/sessions</c>: every matching session.</summary>
public sealed record SessionSummaryList(IReadOnlyList<SessionSummary> Sessions);

/// <summary>One session in a list.</summary>
public sealed record SessionSummary(string Id, string UserId, string Status, DateTimeOffset CreatedAt);

/// <summary><c>GET /api/v1/sessions/{id}</c>: agentapi-proxy's SessionInfo. <see cref="AgentType"/> is the session's app.</summary>
public sealed record SessionInfo(
    string Id, string UserId, string Status, DateTimeOffset CreatedAt, string? Scope, string? TeamId, string? AgentType);

/// <summary>Every error on this surface, including signature failures: <c>{"message": ...}</c>.</summary>
public sealed record SessionManagerError(string Message);
