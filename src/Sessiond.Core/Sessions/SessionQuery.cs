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

    /// <summary>The caller's visibility, applied on top of the filters; null sees everything.</summary>
    public SessionVisibility? VisibleTo { get; init; }
}

/// <summary>
/// Which sessions a caller may see: those of <see cref="UserId"/>, team-scoped ones of <see cref="Teams"/>, within
/// <see cref="Apps"/>. A null user means every user's (an admin); null apps mean every app.
/// </summary>
public sealed record SessionVisibility(string? UserId, IReadOnlySet<string> Teams, IReadOnlySet<string>? Apps);

/// <summary>One page of sessions (without events) and the cursor of the next page, if there is one.</summary>
public sealed record SessionPage(IReadOnlyList<Session> Sessions, SessionCursor? Next);
