using System.Text.Json;
using Sessiond.Core.Events;

namespace Sessiond.Runtime.Turns;

/// <summary>
/// How the runtime records its work as events. Everything the runtime must know after a restart (a pending approval,
/// a decision) lives in events, so the event stream stays the one source of truth.
/// </summary>
public static class RuntimeEvents
{
    /// <summary>Metadata key on a user event injected by <c>steer</c>.</summary>
    public const string SteerKey = "steer";

    /// <summary>Metadata key on a confirmation request: the model step whose calls wait for approval.</summary>
    public const string PendingStepKey = "pendingStep";

    /// <summary>Metadata key on a user event that answers a tool confirmation: <c>{toolCallId, decision, reason}</c>.</summary>
    public const string ToolConfirmationKey = "toolConfirmation";

    /// <summary>Metadata key on a user event that answers an elicitation: <c>{elicitationId, action}</c>.</summary>
    public const string ElicitationAnswerKey = "elicitationAnswer";

    public const string User = "user";

    public static SessionEvent UserInput(string invocationId, TurnInput input, Dictionary<string, JsonElement>? stateDelta, bool steer = false) => new()
    {
        InvocationId = invocationId,
        Author = User,
        Content = new EventContent { Role = "user", Parts = [.. input.Parts] },
        Actions = stateDelta is { Count: > 0 } ? new EventActions { StateDelta = stateDelta } : null,
        Metadata = steer ? new Dictionary<string, JsonElement> { [SteerKey] = JsonSerializer.SerializeToElement(true) } : null,
    };

    public static SessionEvent Error(string invocationId, string author, string code, string message) => new()
    {
        InvocationId = invocationId,
        Author = author,
        ErrorCode = code,
        ErrorMessage = message,
        TurnComplete = true,
    };

    public static SessionEvent Interrupted(string invocationId, string author, string? partialText) => new()
    {
        InvocationId = invocationId,
        Author = author,
        Content = string.IsNullOrEmpty(partialText) ? null : new EventContent { Role = "model", Parts = [new EventPart { Text = partialText }] },
        Interrupted = true,
        TurnComplete = true,
    };

    /// <summary>A user event that records an answer; it has no content, so prompts skip it.</summary>
    public static SessionEvent Answer(string invocationId, string key, object answer) => new()
    {
        InvocationId = invocationId,
        Author = User,
        Metadata = new Dictionary<string, JsonElement> { [key] = JsonSerializer.SerializeToElement(answer) },
    };
}
