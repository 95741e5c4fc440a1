using Sessiond.Core.Events;

namespace Sessiond.Runtime.Turns;

/// <summary>What the user says to start, steer or follow up a turn: content parts (text, or ADK parts).</summary>
public sealed record TurnInput(IReadOnlyList<EventPart> Parts)
{
    public static TurnInput FromText(string text) => new([new EventPart { Text = text }]);

    /// <summary>The text parts joined, for titles and the offline models.</summary>
    public string Text => string.Concat(Parts.Select(p => p.Text));
}

/// <summary>A request to run a turn on a session.</summary>
public sealed record TurnRequest(TurnInput Input)
{
    /// <summary>The agent to run; the session's agent, else <c>root</c>, when null.</summary>
    public string? Agent { get; init; }

    /// <summary>A model of the app to use for this and later turns of the session.</summary>
    public string? Model { get; init; }

    /// <summary>Queue behind a running turn (as a follow-up) instead of failing with <c>session_busy</c>.</summary>
    public bool Enqueue { get; init; }

    /// <summary>State changes recorded on the user's input event (ADK's <c>stateDelta</c>).</summary>
    public Dictionary<string, System.Text.Json.JsonElement>? StateDelta { get; init; }
}
