namespace Sessiond.Core.Sessions;

/// <summary>Filters and a page position for listing sessions, newest <c>updatedAt</c> first.</summary>
public sealed record SessionQuery
{
    public string? AppName { get; init; }

    public string? UserId { get; init; }

    public string? TeamId { get; init; }

    public string? Scope { get; init; }

    public string? Status { get; init; }

    public bool? Starred { get; init; }

    /// <summary>Page size, already validated against the limits.</summary>
    public int Limit { get; init; } = 50;

    /// <summary>Where the previous page ended; null for the first page.</summary>
    public SessionCursor? After { get; init; }
}

/// <summary>One page of sessions (without events) and the cursor of the next page, if there is one.</summary>
public sealed record SessionPage(IReadOnlyList<Session> Sessions, SessionCursor? Next);
