using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Sessiond.Core.Access;
using Sessiond.Core.Events;
using Sessiond.Core.Json;
using Sessiond.Core.Sessions;
using Sessiond.Core.Validation;
using Sessiond.Runtime.Agents;
using Sessiond.Runtime.Models;
using Sessiond.Runtime.Tools;

namespace Sessiond.Runtime.Turns;

/// <summary>How a run of the turn loop ended.</summary>
internal enum TurnOutcome
{
    Completed,
    Failed,
    Interrupted,
    /// <summary>Waiting for tool approvals; the session stays <c>waiting</c> and a later approval resumes it.</summary>
    Paused,
}

/// <summary>
/// Runs the turn loop for one <see cref="ActiveTurn"/>: records the input, then calls the model, streams its deltas,
/// stores its final events, and runs its tool calls (each step's calls and responses committed together) until the
/// model stops calling tools, a call needs approval, or <see cref="AgentDefinition.MaxIterations"/> is reached.
/// </summary>
internal sealed class TurnRunner
{
    private readonly TurnServices _services;
    private readonly ActiveTurn _turn;
    private readonly AppDefinition _app;
    private readonly AgentDefinition _agent;
    private readonly ModelDefinition _model;
    private readonly Session _session;
    private readonly List<SessionEvent> _history = [];
    private readonly Dictionary<string, JsonElement> _state;
    private readonly StringBuilder _streamed = new();
    private readonly Dictionary<string, string> _badArguments = [];
    private readonly List<IToolset> _toolsets = [];
    private string _traceId = "";
    private string? _turnSpanId;

    public TurnRunner(TurnServices services, ActiveTurn turn, Session session, AppDefinition app, AgentDefinition agent, ModelDefinition model)
    {
        _services = services;
        _turn = turn;
        _session = session;
        _app = app;
        _agent = agent;
        _model = model;
        _state = new Dictionary<string, JsonElement>(session.State);
    }

    private CancellationToken Cancelled => _turn.Cancellation.Token;

    /// <summary>Runs the loop; <paramref name="input"/> is the user's event to record first (null when resuming).</summary>
    public async Task<TurnOutcome> RunAsync(SessionEvent? input)
    {
        _traceId = Guid.NewGuid().ToString("N");
        using var turnSpan = _services.Traces.Start(_session.Id, $"invocation {_turn.InvocationId}", _traceId, null,
            new() { ["invocation_id"] = _turn.InvocationId, ["agent"] = _agent.Name, ["model"] = _model.Name });
        _turnSpanId = turnSpan.SpanId;
        try
        {
            await LoadHistoryAsync();
            if (input is not null)
            {
                await CommitAsync([input]);
            }

            var pending = PendingWork.From(_history);
            using var client = _services.Models.Create(_model);
            await StartToolsetsAsync();
            var tools = _toolsets.SelectMany(t => t.Tools).GroupBy(t => t.Name).Select(g => g.First()).ToDictionary(t => t.Name);

            if (pending is { AllDecided: true, PendingStep: { } resumed })
            {
                await RunStepAsync(resumed, tools, pending.Approvals.ToDictionary(a => a.ToolCallId, a => a.Decision!));
            }

            // A resumed turn goes on counting the model calls it made before it paused.
            var step = _history.Count(e => e.InvocationId == _turn.InvocationId && e.Content?.Role == "model");
            for (; step < _agent.MaxIterations; step++)
            {
                await InjectSteersAsync();
                var modelEvent = await CallModelAsync(client, tools.Values, step);
                var calls = modelEvent.Content?.Parts?.Where(p => p.FunctionCall is not null).Select(p => p.FunctionCall!).ToList() ?? [];
                if (calls.Count == 0)
                {
                    await CommitAsync([modelEvent with { TurnComplete = true }]);
                    await SetTitleAsync();
                    return TurnOutcome.Completed;
                }

                var asks = calls.Where(c => ToolPermissions.Decide(c.Name!, _app.Permissions, CurrentPermissions) == ToolDecision.Ask).ToList();
                if (asks.Count > 0)
                {
                    await CommitAsync([ConfirmationRequest(modelEvent, asks)]);
                    return TurnOutcome.Paused;
                }

                await RunStepAsync(modelEvent, tools, decisions: null);
            }

            await CommitAsync([RuntimeEvents.Error(_turn.InvocationId, _agent.Name, "max_iterations",
                $"The agent made {_agent.MaxIterations} model calls without finishing; raise maxIterations if that is expected.")]);
            return TurnOutcome.Failed;
        }
        catch (OperationCanceledException) when (Cancelled.IsCancellationRequested)
        {
            await CommitAsync([RuntimeEvents.Interrupted(_turn.InvocationId, _agent.Name, _streamed.ToString())], CancellationToken.None);
            return TurnOutcome.Interrupted;
        }
        catch (Exception e) when (ErrorCodeOf(e) is { } code)
        {
            turnSpan.Attributes["error"] = code;
            await CommitAsync([RuntimeEvents.Error(_turn.InvocationId, _agent.Name, code, e.Message)], CancellationToken.None);
            return TurnOutcome.Failed;
        }
        finally
        {
            foreach (var toolset in _toolsets)
            {
                await toolset.DisposeAsync();
            }
        }
    }

    private SessionPermissions CurrentPermissions => _session.Permissions;

    private static string? ErrorCodeOf(Exception e) => e switch
    {
        ModelException model => model.Code,
        ToolsetException => ToolsetException.Code,
        OperationCanceledException => null,
        Core.Errors.SessiondException => null,
        _ => "tool_error",
    };

    private async Task LoadHistoryAsync()
    {
        var after = 0L;
        while (true)
        {
            var page = await _services.Sessions.ReadCommittedAsync(_session.Id, after, 1000, Cancelled);
            foreach (var stored in page)
            {
                _history.Add(stored.ToEvent() with { Seq = stored.Seq });
            }

            if (page.Count < 1000)
            {
                return;
            }

            after = page[^1].Seq;
        }
    }

    /// <summary>
    /// Starts the agent's toolsets into <see cref="_toolsets"/> one by one, so those started before one that fails are
    /// still stopped when the turn ends (an MCP server left running would outlive the turn).
    /// </summary>
    private async Task StartToolsetsAsync()
    {
        foreach (var name in _agent.Tools)
        {
            var definition = _app.Toolsets.GetValueOrDefault(name) ?? new ToolsetDefinition(name, ToolsetDefinition.Builtin);
            _toolsets.Add(await _services.Toolsets.StartAsync(definition, Cancelled));
        }
    }

    private async Task InjectSteersAsync()
    {
        var steers = new List<SessionEvent>();
        while (_turn.Steers.Reader.TryRead(out var steer))
        {
            steers.Add(RuntimeEvents.UserInput(_turn.InvocationId, steer, null, steer: true));
        }

        if (steers.Count > 0)
        {
            await CommitAsync(steers);
        }
    }

    /// <summary>Streams one model call, broadcasting each delta, and returns the final model event (not yet stored).</summary>
    private async Task<SessionEvent> CallModelAsync(IChatClient client, IEnumerable<IAgentTool> tools, int step)
    {
        using var span = _services.Traces.Start(_session.Id, "call_llm", _traceId, _turnSpanId,
            new() { ["model"] = _model.Model, ["step"] = step.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var options = new ChatOptions
        {
            Instructions = string.IsNullOrWhiteSpace(_agent.Instruction) ? null : _agent.Instruction,
            Tools = [.. tools.Select(t => AIFunctionFactory.CreateDeclaration(t.Name, t.Description, t.ParametersSchema))],
            AdditionalProperties = new AdditionalPropertiesDictionary { [ModelOptions.StepKey] = step },
        };
        _streamed.Clear();
        var calls = new List<EventPart>();
        UsageDetails? usage = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancelled);
        timeout.CancelAfter(_model.Timeout);
        try
        {
            await foreach (var update in client.GetStreamingResponseAsync(PromptBuilder.Build(_history), options, timeout.Token))
            {
                foreach (var content in update.Contents)
                {
                    switch (content)
                    {
                        case TextContent { Text.Length: > 0 } text:
                            _streamed.Append(text.Text);
                            Broadcast(text.Text);
                            break;
                        case FunctionCallContent call:
                            var callId = string.IsNullOrEmpty(call.CallId) ? IdGenerator.NewId("call", _services.Time) : call.CallId;
                            if (call.Exception is not null)
                            {
                                // The model sent arguments that are not a JSON object; the call is answered with the error.
                                _badArguments[callId] = call.Exception.Message;
                            }

                            calls.Add(new EventPart
                            {
                                FunctionCall = new FunctionCall
                                {
                                    Id = callId,
                                    Name = call.Name,
                                    Args = JsonSerializer.SerializeToElement(call.Arguments ?? new Dictionary<string, object?>()),
                                },
                            });
                            break;
                        case UsageContent used:
                            usage = used.Details;
                            break;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !Cancelled.IsCancellationRequested)
        {
            throw new ModelException(ModelException.Timeout, $"The model '{_model.Name}' did not finish within {_model.Timeout.TotalSeconds:0} s.");
        }

        var parts = new List<EventPart>();
        if (_streamed.Length > 0)
        {
            parts.Add(new EventPart { Text = _streamed.ToString() });
        }

        parts.AddRange(calls);
        var input = usage?.InputTokenCount ?? 0;
        var output = usage?.OutputTokenCount ?? 0;
        span.Attributes["input_tokens"] = input.ToString(System.Globalization.CultureInfo.InvariantCulture);
        span.Attributes["output_tokens"] = output.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new SessionEvent
        {
            InvocationId = _turn.InvocationId,
            Author = _agent.Name,
            Content = new EventContent { Role = "model", Parts = parts },
            Usage = new EventUsage(input, output, (input * _model.InputPerMTok + output * _model.OutputPerMTok) / 1_000_000m),
        };
    }

    private void Broadcast(string delta)
    {
        var partial = new SessionEvent
        {
            InvocationId = _turn.InvocationId,
            Author = _agent.Name,
            Timestamp = _services.Time.GetUtcNow(),
            Partial = true,
            Content = new EventContent { Role = "model", Parts = [new EventPart { Text = delta }] },
        };
        _services.Live?.BroadcastPartial(_session.Id, partial);
        _turn.Emit(new TurnUpdate.Partial(partial));
    }

    /// <summary>
    /// Runs the step's calls (approved, or refused by <paramref name="decisions"/> or the rules) and commits the call
    /// event and the response event together, so history never holds a call without its response.
    /// </summary>
    private async Task RunStepAsync(SessionEvent modelEvent, Dictionary<string, IAgentTool> tools, Dictionary<string, string>? decisions)
    {
        var responses = new List<EventPart>();
        var delta = new Dictionary<string, JsonElement>();
        foreach (var call in modelEvent.Content!.Parts!.Where(p => p.FunctionCall is not null).Select(p => p.FunctionCall!))
        {
            var result = await RunCallAsync(call, tools, decisions?.GetValueOrDefault(call.Id ?? ""));
            foreach (var (key, value) in result.StateDelta ?? new Dictionary<string, JsonElement>())
            {
                delta[key] = value;
                ApplyToState(key, value);
            }

            var response = result.Response.ValueKind == JsonValueKind.Object
                ? result.Response
                : JsonSerializer.SerializeToElement(new Dictionary<string, JsonElement> { ["result"] = result.Response });
            responses.Add(new EventPart { FunctionResponse = new FunctionResponse { Id = call.Id, Name = call.Name, Response = response } });
        }

        var responseEvent = new SessionEvent
        {
            InvocationId = _turn.InvocationId,
            Author = _agent.Name,
            Content = new EventContent { Role = "user", Parts = responses },
            Actions = delta.Count > 0 ? new EventActions { StateDelta = delta } : null,
        };
        await CommitAsync([modelEvent, responseEvent]);
    }

    private async Task<ToolResult> RunCallAsync(FunctionCall call, Dictionary<string, IAgentTool> tools, string? decision)
    {
        using var span = _services.Traces.Start(_session.Id, $"execute_tool {call.Name}", _traceId, _turnSpanId,
            new() { ["tool"] = call.Name ?? "", ["call_id"] = call.Id ?? "" });
        var rule = ToolPermissions.Decide(call.Name ?? "", _app.Permissions, CurrentPermissions);
        if (rule == ToolDecision.Deny)
        {
            return ToolResult.Failure($"The tool '{call.Name}' is denied by this session's permissions.");
        }

        if (decision == ApprovalDecision.Reject)
        {
            return ToolResult.Failure($"The user rejected the call to '{call.Name}'.");
        }

        if (_badArguments.TryGetValue(call.Id ?? "", out var problem))
        {
            return ToolResult.Failure($"The arguments of the call to '{call.Name}' were not a JSON object: {problem}");
        }

        if (call.Name is null || !tools.TryGetValue(call.Name, out var tool))
        {
            return ToolResult.Failure($"There is no tool named '{call.Name}'.");
        }

        var context = new ToolContext(_session.Id, _state, _services.Time, ElicitAsync);
        return await tool.InvokeAsync(call.Args ?? JsonSerializer.SerializeToElement(new { }), context, Cancelled);
    }

    private SessionEvent ConfirmationRequest(SessionEvent modelEvent, List<FunctionCall> asks) => new()
    {
        InvocationId = _turn.InvocationId,
        Author = _agent.Name,
        Actions = new EventActions
        {
            RequestedToolConfirmations = asks.ToDictionary(
                c => c.Id!,
                c => JsonSerializer.SerializeToElement(new { name = c.Name, args = c.Args, hint = $"Approve the call to '{c.Name}'?" })),
        },
        Metadata = new Dictionary<string, JsonElement>
        {
            [RuntimeEvents.PendingStepKey] = JsonSerializer.SerializeToElement(modelEvent, SessiondJson.Default.SessionEvent),
        },
    };

    /// <summary>Asks the user on behalf of a tool: records the question, waits, then records the answer.</summary>
    private async Task<ElicitationAnswer> ElicitAsync(ElicitationRequest request, CancellationToken cancellationToken)
    {
        var id = IdGenerator.NewId("eli", _services.Time);
        var waiter = new TaskCompletionSource<ElicitationAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        _turn.Elicitations[id] = waiter;
        try
        {
            await CommitAsync([new SessionEvent
            {
                InvocationId = _turn.InvocationId,
                Author = _agent.Name,
                Actions = new EventActions
                {
                    RequestedInput = JsonSerializer.SerializeToElement(new { elicitationId = id, message = request.Message, requestedSchema = request.RequestedSchema }),
                },
            }]);
            await SetStatusAsync(SessionStatus.Waiting);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Cancelled);
            var answer = await waiter.Task.WaitAsync(linked.Token);
            await CommitAsync([RuntimeEvents.Answer(_turn.InvocationId, RuntimeEvents.ElicitationAnswerKey, new { elicitationId = id, action = answer.Action })]);
            await SetStatusAsync(SessionStatus.Running);
            return answer;
        }
        finally
        {
            _turn.Elicitations.TryRemove(id, out _);
        }
    }

    private async Task SetStatusAsync(string status)
    {
        await _services.Store.SetRunStateAsync(_session.Id, new Core.Ports.RunStateChange(_services.Time.GetUtcNow()) { Status = status, FencingToken = _turn.LeaseToken }, CancellationToken.None);
        _turn.Emit(new TurnUpdate.Status(status));
    }

    private async Task CommitAsync(List<SessionEvent> events, CancellationToken? cancellationToken = null)
    {
        // Once the model produced an event it is recorded even if a cancel arrives meanwhile, so history stays whole.
        var result = await _services.Sessions.AppendAsync(
            Caller.System, _session.Id, new AppendEventsCommand { Events = events }, null, _turn.LeaseToken,
            cancellationToken ?? CancellationToken.None);
        foreach (var stored in result.Events)
        {
            var committed = stored.ToEvent() with { Seq = stored.Seq };
            _history.Add(committed);
            _turn.Emit(new TurnUpdate.Committed(stored));
            foreach (var (key, value) in committed.Actions?.StateDelta ?? [])
            {
                ApplyToState(key, value);
            }
        }
    }

    private void ApplyToState(string key, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            _state.Remove(key);
        }
        else
        {
            _state[key] = value;
        }
    }

    /// <summary>After the first turn, a session without a title takes the first line of its first input.</summary>
    private async Task SetTitleAsync()
    {
        if (_session.Title is not null)
        {
            return;
        }

        var first = _history.FirstOrDefault(e => e.Author == RuntimeEvents.User && e.Content?.Parts is { Count: > 0 });
        var text = string.Concat(first?.Content?.Parts?.Select(p => p.Text) ?? []).Trim();
        var line = text.Split('\n', 2)[0].Trim();
        if (line.Length == 0)
        {
            return;
        }

        var title = line.Length <= 60 ? line : line[..57].TrimEnd() + "...";
        await _services.Sessions.UpdateAsync(Caller.System, _session.Id, new UpdateSessionCommand { Title = title }, CancellationToken.None);
    }
}

/// <summary>The answers to a tool confirmation.</summary>
public static class ApprovalDecision
{
    public const string Approve = "approve";
    public const string Reject = "reject";
    public const string ApproveAlways = "approve_always";

    public static bool IsValid(string? decision) => decision is Approve or Reject or ApproveAlways;
}
