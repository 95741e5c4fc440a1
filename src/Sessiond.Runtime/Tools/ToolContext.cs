using System.Text.Json;

namespace Sessiond.Runtime.Tools;

/// <summary>What a running tool call can see and ask for.</summary>
public sealed class ToolContext(
    string sessionId,
    IReadOnlyDictionary<string, JsonElement> state,
    TimeProvider time,
    Func<ElicitationRequest, CancellationToken, Task<ElicitationAnswer>> elicit)
{
    public string SessionId { get; } = sessionId;

    /// <summary>The session's merged state with this turn's <c>temp:</c> keys, as of the call.</summary>
    public IReadOnlyDictionary<string, JsonElement> State { get; } = state;

    public TimeProvider Time { get; } = time;

    /// <summary>Pauses the turn (status <c>waiting</c>) until the client answers the question, or the turn is cancelled.</summary>
    public Task<ElicitationAnswer> ElicitAsync(ElicitationRequest request, CancellationToken cancellationToken) =>
        elicit(request, cancellationToken);
}

/// <summary>A question a tool asks the user, with the JSON schema of the answer it wants.</summary>
public sealed record ElicitationRequest(string Message, JsonElement? RequestedSchema);

/// <summary>The user's answer: <c>accept</c> (with <see cref="Content"/>), <c>decline</c> or <c>cancel</c>.</summary>
public sealed record ElicitationAnswer(string Action, JsonElement? Content)
{
    public const string Accept = "accept";
    public const string Decline = "decline";
    public const string Cancel = "cancel";

    public static bool IsValidAction(string? action) => action is Accept or Decline or Cancel;
}
