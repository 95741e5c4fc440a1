namespace Sessiond.Core.Events;

/// <summary>Tokens and cost of one event; a session's usage is the sum over its events.</summary>
public sealed record EventUsage(long InputTokens = 0, long OutputTokens = 0, decimal Cost = 0)
{
    public static readonly EventUsage Zero = new();

    public EventUsage Add(EventUsage? other) =>
        other is null ? this : new(InputTokens + other.InputTokens, OutputTokens + other.OutputTokens, Cost + other.Cost);
}
