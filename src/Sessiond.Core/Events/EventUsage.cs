using System.Text.Json.Serialization;
using Sessiond.Core.Errors;

namespace Sessiond.Core.Events;

/// <summary>Tokens and cost of one event; a session's usage is the sum over its events.</summary>
public sealed record EventUsage(long InputTokens = 0, long OutputTokens = 0, decimal Cost = 0)
{
    public static readonly EventUsage Zero = new();

    /// <summary>True when no part is negative; usage only ever adds up.</summary>
    [JsonIgnore]
    public bool IsNonNegative => InputTokens >= 0 && OutputTokens >= 0 && Cost >= 0;

    /// <summary>The sum; <c>invalid_request</c> when a total would overflow, rather than wrapping around or failing the server.</summary>
    public EventUsage Add(EventUsage? other)
    {
        if (other is null)
        {
            return this;
        }

        try
        {
            return new(checked(InputTokens + other.InputTokens), checked(OutputTokens + other.OutputTokens), Cost + other.Cost);
        }
        catch (OverflowException)
        {
            throw SessionErrors.Invalid("The usage totals would overflow.");
        }
    }
}
