using System.Text.Json;
using Sessiond.Core.Events;
using Sessiond.Core.Json;

namespace Sessiond.Runtime.Turns;

/// <summary>A tool call waiting for the user's approval.</summary>
public sealed record PendingApproval(string ToolCallId, string Name, JsonElement? Args, string? Decision);

/// <summary>A question a tool asked the user, waiting for an answer.</summary>
public sealed record PendingElicitation(string ElicitationId, string Message, JsonElement? RequestedSchema);

/// <summary>
/// What a session's events say is still open: the model step whose calls wait for approval (with the decisions so far),
/// and an unanswered elicitation. A committed step, an interruption or the end of a turn closes both.
/// </summary>
public sealed class PendingWork
{
    /// <summary>The confirmation request event; its metadata holds the model step to resume.</summary>
    public SessionEvent? ConfirmationEvent { get; private set; }

    public List<PendingApproval> Approvals { get; } = [];

    public PendingElicitation? Elicitation { get; private set; }

    /// <summary>True when every call of the pending step has a decision.</summary>
    public bool AllDecided => ConfirmationEvent is not null && Approvals.All(a => a.Decision is not null);

    /// <summary>The model step the confirmation request holds, to run once every call is decided.</summary>
    public SessionEvent? PendingStep =>
        ConfirmationEvent?.Metadata?.TryGetValue(RuntimeEvents.PendingStepKey, out var step) == true
            ? step.Deserialize(SessiondJson.Default.SessionEvent)
            : null;

    public static PendingWork From(IEnumerable<SessionEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var work = new PendingWork();
        foreach (var e in events)
        {
            work.Apply(e);
        }

        return work;
    }

    /// <summary>Folds one more committed event in.</summary>
    public void Apply(SessionEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.TurnComplete == true || e.Interrupted == true || e.Content?.Parts?.Any(p => p.FunctionResponse is not null) == true)
        {
            ConfirmationEvent = null;
            Approvals.Clear();
            Elicitation = null;
        }

        if (e.Actions?.RequestedToolConfirmations is { Count: > 0 } requested && e.Metadata?.ContainsKey(RuntimeEvents.PendingStepKey) == true)
        {
            ConfirmationEvent = e;
            Approvals.Clear();
            foreach (var (id, request) in requested)
            {
                Approvals.Add(new PendingApproval(
                    id,
                    request.TryGetProperty("name", out var name) ? name.GetString() ?? "" : "",
                    request.TryGetProperty("args", out var args) ? args : null,
                    null));
            }
        }

        if (e.Metadata?.TryGetValue(RuntimeEvents.ToolConfirmationKey, out var answer) == true &&
            answer.TryGetProperty("toolCallId", out var callId) && answer.TryGetProperty("decision", out var decision))
        {
            var index = Approvals.FindIndex(a => a.ToolCallId == callId.GetString());
            if (index >= 0)
            {
                Approvals[index] = Approvals[index] with { Decision = decision.GetString() };
            }
        }

        if (e.Actions?.RequestedInput is { ValueKind: JsonValueKind.Object } input && input.TryGetProperty("elicitationId", out var elicitationId))
        {
            Elicitation = new PendingElicitation(
                elicitationId.GetString() ?? "",
                input.TryGetProperty("message", out var message) ? message.GetString() ?? "" : "",
                input.TryGetProperty("requestedSchema", out var schema) ? schema : null);
        }

        if (e.Metadata?.ContainsKey(RuntimeEvents.ElicitationAnswerKey) == true)
        {
            Elicitation = null;
        }
    }
}
