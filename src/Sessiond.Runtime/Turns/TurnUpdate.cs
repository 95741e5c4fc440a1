using Sessiond.Core.Events;

namespace Sessiond.Runtime.Turns;

/// <summary>Something a turn produced, in order, for the client that started it.</summary>
public abstract record TurnUpdate
{
    private TurnUpdate()
    {
    }

    /// <summary>A streamed delta, live only.</summary>
    public sealed record Partial(SessionEvent Event) : TurnUpdate;

    /// <summary>A committed event with its <c>seq</c>.</summary>
    public sealed record Committed(StoredEvent Event) : TurnUpdate;

    /// <summary>The session's status changed.</summary>
    public sealed record Status(string Value) : TurnUpdate;
}

/// <summary>A started (or queued) turn: its invocation id and, when it started, its updates until it ends or pauses.</summary>
public sealed record TurnHandle(string InvocationId, bool Queued, IAsyncEnumerable<TurnUpdate> Updates);
