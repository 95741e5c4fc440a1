using Sessiond.Core.Events;
using Sessiond.Core.Sessions;

namespace Sessiond.Client;

/// <summary>A page of sessions and the cursor of the next page.</summary>
public sealed record SessionList(List<Session> Sessions, string? NextCursor);

/// <summary>A session with the events the read asked for.</summary>
public sealed record SessionDetail(Session Session, List<SessionEvent> Events, long? NextAfterSeq);

/// <summary>Events as stored, with their assigned seq, and the session's last seq.</summary>
public sealed record AppendedEvents(List<SessionEvent> Events, long LastSeq);

/// <summary>A page of events and the afterSeq of the next page, when more follow.</summary>
public sealed record EventList(List<SessionEvent> Events, long? NextAfterSeq);

/// <summary>Filters for <see cref="SessiondClient.ListSessionsAsync"/>.</summary>
public sealed record SessionListQuery
{
    public string? AppName { get; init; }

    public string? UserId { get; init; }

    public string? TeamId { get; init; }

    public string? Scope { get; init; }

    public string? Status { get; init; }

    public bool? Starred { get; init; }

    public int? Limit { get; init; }

    public string? Cursor { get; init; }
}
