using System.Text.Json;
using Sessiond.Core.Events;

namespace Sessiond.Core.Sessions;

/// <summary>A request to create a session, as any surface received it; <see cref="SessionService"/> validates it.</summary>
public sealed record CreateSessionCommand
{
    public string? AppName { get; init; }

    public string? UserId { get; init; }

    public string? Id { get; init; }

    public string? TeamId { get; init; }

    public string? Scope { get; init; }

    public string? Title { get; init; }

    public Dictionary<string, JsonElement>? State { get; init; }

    public List<SessionEvent>? Events { get; init; }

    public Dictionary<string, JsonElement>? Metadata { get; init; }
}

/// <summary>A request to change a session's own fields.</summary>
public sealed record UpdateSessionCommand
{
    public string? Title { get; init; }

    public bool? Starred { get; init; }

    public Dictionary<string, JsonElement>? Metadata { get; init; }
}

/// <summary>A request to append events, optionally guarded by <see cref="ExpectedLastSeq"/>.</summary>
public sealed record AppendEventsCommand
{
    public List<SessionEvent>? Events { get; init; }

    public long? ExpectedLastSeq { get; init; }

    /// <summary>True when the request carries partial (live-only) events.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool HasPartialEvents => Events?.Any(e => e?.Partial == true) == true;
}

/// <summary>Which events a session read includes.</summary>
public enum EventSelection
{
    /// <summary>Events after <c>afterSeq</c>, oldest first, up to the limit.</summary>
    All,
    /// <summary>No events.</summary>
    None,
    /// <summary>The newest events, up to the limit, oldest first.</summary>
    Recent,
}

/// <summary>
/// A session and the events a read asked for, in pages read as they are consumed; <see cref="NextAfterSeq"/> is set
/// when more events follow.
/// </summary>
public sealed record SessionWithEvents(Session Session, IAsyncEnumerable<IReadOnlyList<StoredEvent>> Pages, long? NextAfterSeq);

/// <summary>A page of events and, when more may follow, the <c>afterSeq</c> that reads the next page.</summary>
public sealed record EventPage(IReadOnlyList<StoredEvent> Events, long? NextAfterSeq);
