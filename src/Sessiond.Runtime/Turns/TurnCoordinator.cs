using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sessiond.Core.Access;
using Sessiond.Core.Errors;
using Sessiond.Core.Events;
using Sessiond.Core.Json;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Core.Validation;
using Sessiond.Runtime.Agents;
using Sessiond.Runtime.Tools;

namespace Sessiond.Runtime.Turns;

/// <summary>
/// The runtime's entry point for every surface: starts turns (one per session, enforced by a status compare-and-set in
/// the store), and routes steer, follow-ups, cancel, approvals and elicitation answers to them. Follow-ups run one per
/// end of turn; a paused turn resumes when its last approval arrives, even after a restart.
/// </summary>
public sealed partial class TurnCoordinator(TurnServices services) : IAsyncDisposable
{
    private static readonly string[] Startable = [SessionStatus.Idle, SessionStatus.Failed];
    private static readonly string[] WaitingOnly = [SessionStatus.Waiting];
    private readonly ConcurrentDictionary<string, ActiveTurn> _active = new();
    private readonly ConcurrentDictionary<Task, bool> _running = new();
    private volatile bool _stopping;

    /// <summary>
    /// Starts a turn and returns its updates. A busy session is <c>session_busy</c>, unless <see cref="TurnRequest.Enqueue"/>
    /// queues the input as a follow-up. The agent and model are checked before anything is recorded.
    /// </summary>
    public async Task<TurnHandle> StartTurnAsync(Caller caller, string sessionId, TurnRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var session = await services.Sessions.RequireSessionAsync(caller, sessionId, cancellationToken);
        var (app, agent, _) = Resolve(session, request.Agent, request.Model);
        RequireInput(request.Input);
        var invocationId = IdGenerator.NewId("inv", services.Time);
        var input = RuntimeEvents.UserInput(invocationId, request.Input, request.StateDelta);
        try
        {
            session = await services.Store.SetRunStateAsync(session.Id, new RunStateChange(services.Time.GetUtcNow())
            {
                Status = SessionStatus.Running,
                FromStatuses = Startable,
                Agent = agent.Name,
                ModelOverride = request.Model,
                Lease = NewClaim(),
            }, cancellationToken);
        }
        catch (SessiondException e) when (e.Code == ErrorCodes.SessionBusy && request.Enqueue)
        {
            await services.Store.EnqueueFollowupAsync(
                new NewFollowup(session.Id, invocationId, EncodeInput(input), services.Time.GetUtcNow()), cancellationToken);
            return new TurnHandle(invocationId, Queued: true, Empty());
        }

        var turn = Launch(session, app, input);
        return new TurnHandle(turn.InvocationId, Queued: false, turn.Updates);
    }

    /// <summary>Queues input for the next model call of the running turn; <c>not_running</c> or <c>queue_full</c> otherwise.</summary>
    public async Task SteerAsync(Caller caller, string sessionId, TurnInput input, CancellationToken cancellationToken)
    {
        var session = await services.Sessions.RequireSessionAsync(caller, sessionId, cancellationToken);
        RequireInput(input);
        if (!_active.TryGetValue(session.Id, out var turn))
        {
            throw SessionErrors.NotRunning(session.Id);
        }

        if (!turn.Steers.Writer.TryWrite(input))
        {
            throw SessionErrors.QueueFull("steer", services.SteerCapacity);
        }
    }

    /// <summary>Queues input durably to run as its own turn when the current one ends, or starts it now on an idle session.</summary>
    public async Task<string> EnqueueFollowupAsync(Caller caller, string sessionId, TurnInput input, string idempotencyKey, CancellationToken cancellationToken)
    {
        var session = await services.Sessions.RequireSessionAsync(caller, sessionId, cancellationToken);
        Resolve(session, null, null);
        RequireInput(input);
        var maxKey = services.Sessions.Limits.MaxIdempotencyKeyLength;
        if (string.IsNullOrEmpty(idempotencyKey) || idempotencyKey.Length > maxKey)
        {
            throw SessionErrors.Invalid($"A follow-up needs an Idempotency-Key header of 1 to {maxKey} characters.");
        }

        var invocationId = IdGenerator.NewId("inv", services.Time);
        var receipt = await services.Store.EnqueueFollowupAsync(new NewFollowup(
            session.Id, idempotencyKey, EncodeInput(RuntimeEvents.UserInput(invocationId, input, null)), services.Time.GetUtcNow()), cancellationToken);
        if (receipt.Duplicate)
        {
            return FollowupStatus.Duplicate;
        }

        return await TryStartFollowupAsync(session.Id) ? FollowupStatus.Started : FollowupStatus.Queued;
    }

    /// <summary>Stops the running turn (it records an <c>interrupted</c> event), or ends a turn paused for approval.</summary>
    public async Task CancelAsync(Caller caller, string sessionId, CancellationToken cancellationToken)
    {
        var session = await services.Sessions.RequireSessionAsync(caller, sessionId, cancellationToken);
        if (_active.TryGetValue(session.Id, out var turn))
        {
            await turn.Cancellation.CancelAsync();
            return;
        }

        if (session.Status != SessionStatus.Waiting)
        {
            throw SessionErrors.NotRunning(session.Id);
        }

        var pending = PendingWork.From(await LoadEventsAsync(session.Id, cancellationToken));
        await services.Sessions.AppendAsync(Caller.System, session.Id, new AppendEventsCommand
        {
            Events = [RuntimeEvents.Interrupted(pending.ConfirmationEvent?.InvocationId ?? IdGenerator.NewId("inv", services.Time),
                pending.ConfirmationEvent?.Author ?? AppDefinition.RootAgent, null)],
        }, null, CancellationToken.None);
        await FinishAsync(session.Id, SessionStatus.Idle, WaitingOnly, leaseToken: null);
    }

    /// <summary>
    /// Records the user's decision on a tool call that waits for approval. When the paused step has every decision, the
    /// turn resumes. <c>approve_always</c> also adds the tool to the session's allow list.
    /// </summary>
    public async Task<string> ApproveAsync(
        Caller caller, string sessionId, string toolCallId, string decision, string? reason, CancellationToken cancellationToken)
    {
        if (!ApprovalDecision.IsValid(decision))
        {
            throw SessionErrors.Invalid("'decision' must be 'approve', 'reject' or 'approve_always'.");
        }

        var session = await services.Sessions.RequireSessionAsync(caller, sessionId, cancellationToken);
        var pending = PendingWork.From(await LoadEventsAsync(session.Id, cancellationToken));
        var approval = pending.Approvals.FirstOrDefault(a => a.ToolCallId == toolCallId)
            ?? throw new SessiondException(ErrorKind.NotFound, ErrorCodes.ApprovalNotFound,
                $"No tool call '{SessionErrors.Printable(toolCallId)}' waits for approval on this session.");
        if (approval.Decision is not null)
        {
            return "already_decided";
        }

        var invocationId = pending.ConfirmationEvent!.InvocationId!;
        await services.Sessions.AppendAsync(Caller.System, session.Id, new AppendEventsCommand
        {
            Events = [RuntimeEvents.Answer(invocationId, RuntimeEvents.ToolConfirmationKey, new { toolCallId, decision, reason })],
        }, null, cancellationToken);
        if (decision == ApprovalDecision.ApproveAlways && !session.Permissions.Allow.Contains(approval.Name))
        {
            session = await services.Store.SetRunStateAsync(session.Id, new RunStateChange(services.Time.GetUtcNow())
            {
                Permissions = session.Permissions with { Allow = [.. session.Permissions.Allow, approval.Name] },
            }, cancellationToken);
        }

        if (pending.Approvals.Count(a => a.Decision is null) > 1)
        {
            return "pending";
        }

        try
        {
            session = await services.Store.SetRunStateAsync(
                session.Id, new RunStateChange(services.Time.GetUtcNow()) { Status = SessionStatus.Running, FromStatuses = WaitingOnly, Lease = NewClaim() },
                cancellationToken);
        }
        catch (SessiondException e) when (e.Code == ErrorCodes.SessionBusy)
        {
            return "resumed";
        }

        var (app, _, _) = Resolve(session, session.Agent, null);
        Launch(session, app, input: null, invocationId);
        return "resumed";
    }

    /// <summary>Hands the user's answer to the tool that asked; <c>elicitation_not_found</c> when nothing waits for it.</summary>
    public async Task AnswerElicitationAsync(
        Caller caller, string sessionId, string elicitationId, string action, JsonElement? content, CancellationToken cancellationToken)
    {
        if (!ElicitationAnswer.IsValidAction(action))
        {
            throw SessionErrors.Invalid("'action' must be 'accept', 'decline' or 'cancel'.");
        }

        var session = await services.Sessions.RequireSessionAsync(caller, sessionId, cancellationToken);
        if (!_active.TryGetValue(session.Id, out var turn) || !turn.Elicitations.TryGetValue(elicitationId, out var waiter) ||
            !waiter.TrySetResult(new ElicitationAnswer(action, content)))
        {
            throw new SessiondException(ErrorKind.NotFound, ErrorCodes.ElicitationNotFound,
                $"No question '{SessionErrors.Printable(elicitationId)}' waits for an answer on this session.");
        }
    }

    /// <summary>The session's run status, what it waits for, and the lengths of its queues.</summary>
    public async Task<SessionRunStatus> GetStatusAsync(Caller caller, string sessionId, CancellationToken cancellationToken)
    {
        var session = await services.Sessions.RequireSessionAsync(caller, sessionId, cancellationToken);
        _active.TryGetValue(session.Id, out var turn);
        var pending = session.Status == SessionStatus.Waiting
            ? PendingWork.From(await LoadEventsAsync(session.Id, cancellationToken))
            : new PendingWork();
        return new SessionRunStatus(
            session.Status,
            turn?.InvocationId ?? pending.ConfirmationEvent?.InvocationId,
            [.. pending.Approvals.Where(a => a.Decision is null)],
            pending.Elicitation is { } elicitation ? [elicitation] : [],
            turn?.SteerCount ?? 0,
            await services.Store.CountFollowupsAsync(session.Id, cancellationToken));
    }

    /// <summary>
    /// Repairs sessions a previous run of this node left mid-turn (their leases name this node), and those whose lease
    /// lapsed: records an <c>interrupted</c> event, makes them idle, and runs their queued follow-ups. A turn paused for
    /// approval holds no lease and stays paused; its approval resumes it. Then runs every queued follow-up of an idle session.
    /// </summary>
    public async Task RecoverAsync(CancellationToken cancellationToken)
    {
        await RepairStaleAsync(services.NodeId, cancellationToken);
        foreach (var sessionId in await services.Store.ListSessionsWithFollowupsAsync(cancellationToken))
        {
            await TryStartFollowupAsync(sessionId);
        }
    }

    /// <summary>Repairs sessions whose turn lease lapsed, on whichever node held it; called periodically on every node.</summary>
    public Task SweepAsync(CancellationToken cancellationToken) => RepairStaleAsync(owner: null, cancellationToken);

    private async Task RepairStaleAsync(string? owner, CancellationToken cancellationToken)
    {
        var stale = await services.Store.ListStaleLeasesAsync(services.Time.GetUtcNow(), owner, 100, cancellationToken);
        foreach (var lease in stale.Where(l => !_active.ContainsKey(l.SessionId)))
        {
            // The compare-and-set on the lease: of several nodes sweeping at once, one repairs; a holder that renewed
            // in time keeps its turn.
            var taken = await services.Store.TakeOverLeaseAsync(lease.SessionId, lease.Token, NewClaim(), cancellationToken);
            if (taken is null || await services.Store.GetSessionAsync(lease.SessionId, cancellationToken) is not { } session)
            {
                continue;
            }

            Log.Recovering(services.Logger, session.Id, session.Status, lease.Owner ?? "none");
            try
            {
                var last = await services.Sessions.ReadCommittedAsync(session.Id, Math.Max(0, session.LastSeq - 1), 1, cancellationToken);
                var invocationId = last.Count > 0 ? last[0].ToEvent().InvocationId : null;
                await services.Sessions.AppendAsync(Caller.System, session.Id, new AppendEventsCommand
                {
                    Events = [RuntimeEvents.Interrupted(invocationId ?? IdGenerator.NewId("inv", services.Time), session.Agent ?? AppDefinition.RootAgent, null)],
                }, null, taken.Token, cancellationToken);
            }
            catch (SessiondException e) when (e.Code is ErrorCodes.LeaseLost or ErrorCodes.SessionNotFound)
            {
                continue;
            }

            await FinishAsync(session.Id, SessionStatus.Idle, null, taken.Token);
        }
    }

    /// <summary>Cancels every running turn and waits for them to record their interruption.</summary>
    public async ValueTask DisposeAsync()
    {
        // Follow-ups stay queued for the next start instead of starting while the store closes.
        _stopping = true;
        foreach (var turn in _active.Values)
        {
            await turn.Cancellation.CancelAsync();
        }

        await Task.WhenAll(_running.Keys);
    }

    private (AppDefinition App, AgentDefinition Agent, ModelDefinition Model) Resolve(Session session, string? agentName, string? modelName)
    {
        var app = services.Catalog.Find(session.AppName) ?? throw new SessiondException(ErrorKind.Invalid, ErrorCodes.UnknownAgent,
            $"The app '{session.AppName}' has no agents: add agents/{session.AppName}.yaml, or use the built-in app 'echo'.");
        var agent = app.Agents.GetValueOrDefault(agentName ?? session.Agent ?? AppDefinition.RootAgent)
            ?? throw new SessiondException(ErrorKind.Invalid, ErrorCodes.UnknownAgent,
                $"The app '{app.Name}' has no agent '{SessionErrors.Printable(agentName ?? session.Agent ?? "")}'; it has {string.Join(", ", app.Agents.Keys)}.");
        var model = app.Models.GetValueOrDefault(modelName ?? session.ModelOverride ?? agent.Model)
            ?? throw new SessiondException(ErrorKind.Invalid, ErrorCodes.UnknownModel,
                $"The app '{app.Name}' has no model '{SessionErrors.Printable(modelName ?? session.ModelOverride ?? "")}'; it has {string.Join(", ", app.Models.Keys)}.");
        return (app, agent, model);
    }

    private static void RequireInput(TurnInput input)
    {
        if (input?.Parts is not { Count: > 0 } || input.Parts.All(p => p.Text is null && p.Extra is null))
        {
            throw SessionErrors.Invalid("'input' must be non-empty text or a list of parts.");
        }
    }

    /// <summary>Starts the loop for a session already marked running; returns at once.</summary>
    private ActiveTurn Launch(Session session, AppDefinition app, SessionEvent? input, string? invocationId = null)
    {
        var turn = new ActiveTurn(session.Id, input?.InvocationId ?? invocationId!, session.Lease!.Token, services.SteerCapacity);
        turn.Emit(new TurnUpdate.Status(SessionStatus.Running));
        _active[session.Id] = turn;
        var task = Task.Run(() => RunAsync(turn, session, app, input));
        _running[task] = true;
        task.ContinueWith(t => _running.TryRemove(t, out _), TaskScheduler.Default);
        return turn;
    }

    private async Task RunAsync(ActiveTurn turn, Session session, AppDefinition app, SessionEvent? input)
    {
        var status = SessionStatus.Failed;
        using var stopHeartbeat = new CancellationTokenSource();
        var heartbeat = HeartbeatAsync(turn, stopHeartbeat.Token);
        try
        {
            var (_, agent, model) = Resolve(session, session.Agent, null);
            var outcome = await new TurnRunner(services, turn, session, app, agent, model).RunAsync(input);
            status = outcome switch
            {
                TurnOutcome.Paused => SessionStatus.Waiting,
                TurnOutcome.Failed => SessionStatus.Failed,
                _ => SessionStatus.Idle,
            };
        }
        catch (SessiondException e) when (e.Code == ErrorCodes.LeaseLost)
        {
            turn.LeaseLost = true;
        }
        catch (Exception e)
        {
            Log.TurnCrashed(services.Logger, e, session.Id);
        }
        finally
        {
            await stopHeartbeat.CancelAsync();
            await heartbeat;
            _active.TryRemove(new KeyValuePair<string, ActiveTurn>(session.Id, turn));
            try
            {
                if (turn.LeaseLost)
                {
                    // Another node took the session over and repairs it; this node writes nothing more.
                    Log.LeaseLost(services.Logger, session.Id, turn.LeaseToken);
                }
                else
                {
                    turn.Emit(new TurnUpdate.Status(status));
                    await FinishAsync(session.Id, status, null, turn.LeaseToken);
                }
            }
            catch (Exception e)
            {
                Log.TurnCrashed(services.Logger, e, session.Id);
            }
            finally
            {
                turn.Complete();
            }
        }
    }

    /// <summary>Ends a turn with <paramref name="status"/>; when that frees the session, the next follow-up starts.</summary>
    private async Task FinishAsync(string sessionId, string status, string[]? from, long? leaseToken)
    {
        try
        {
            await services.Store.SetRunStateAsync(sessionId, new RunStateChange(services.Time.GetUtcNow())
            {
                Status = status,
                FromStatuses = from,
                FencingToken = leaseToken,
                ReleaseLease = true,
            }, CancellationToken.None);
        }
        catch (SessiondException e) when (e.Code is ErrorCodes.SessionNotFound or ErrorCodes.SessionBusy or ErrorCodes.LeaseLost)
        {
            return;
        }

        if (status != SessionStatus.Waiting)
        {
            await TryStartFollowupAsync(sessionId);
        }
    }

    /// <summary>Claims an idle session and starts its oldest follow-up; false when it is busy or nothing is queued.</summary>
    private async Task<bool> TryStartFollowupAsync(string sessionId)
    {
        if (_stopping || await services.Store.CountFollowupsAsync(sessionId, CancellationToken.None) == 0)
        {
            return false;
        }

        Session session;
        try
        {
            session = await services.Store.SetRunStateAsync(sessionId, new RunStateChange(services.Time.GetUtcNow())
            {
                Status = SessionStatus.Running,
                FromStatuses = Startable,
                Lease = NewClaim(),
            }, CancellationToken.None);
        }
        catch (SessiondException e) when (e.Code is ErrorCodes.SessionBusy or ErrorCodes.SessionNotFound)
        {
            return false;
        }

        var next = await services.Store.TakeFollowupAsync(sessionId, CancellationToken.None);
        if (next is null || services.Catalog.Find(session.AppName) is not { } app)
        {
            await services.Store.SetRunStateAsync(sessionId, new RunStateChange(services.Time.GetUtcNow())
            {
                Status = SessionStatus.Idle,
                FencingToken = session.Lease!.Token,
                ReleaseLease = true,
            }, CancellationToken.None);
            return false;
        }

        Launch(session, app, DecodeInput(next.InputJson));
        return true;
    }

    private LeaseClaim NewClaim()
    {
        var now = services.Time.GetUtcNow();
        return new LeaseClaim(services.NodeId, now, now + services.LeaseDuration);
    }

    /// <summary>
    /// Renews the turn's lease every third of its length. When the store says it was taken over, the turn stops; a
    /// store that cannot be reached is tried again at the next beat (should the lease lapse meanwhile, the turn's next
    /// write is refused).
    /// </summary>
    private async Task HeartbeatAsync(ActiveTurn turn, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(services.LeaseDuration / 3, services.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    await services.Store.RenewLeaseAsync(turn.SessionId, turn.LeaseToken, services.Time.GetUtcNow() + services.LeaseDuration, stop);
                }
                catch (SessiondException e) when (e.Code is ErrorCodes.LeaseLost or ErrorCodes.SessionNotFound)
                {
                    turn.LeaseLost = e.Code == ErrorCodes.LeaseLost;
                    await turn.Cancellation.CancelAsync();
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.RenewFailed(services.Logger, e, turn.SessionId);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task<List<SessionEvent>> LoadEventsAsync(string sessionId, CancellationToken cancellationToken)
    {
        var events = new List<SessionEvent>();
        var after = 0L;
        while (true)
        {
            var page = await services.Sessions.ReadCommittedAsync(sessionId, after, 1000, cancellationToken);
            events.AddRange(page.Select(e => e.ToEvent() with { Seq = e.Seq }));
            if (page.Count < 1000)
            {
                return events;
            }

            after = page[^1].Seq;
        }
    }

    private static string EncodeInput(SessionEvent input) => JsonSerializer.Serialize(input, SessiondJson.Default.SessionEvent);

    private static SessionEvent DecodeInput(string json) => JsonSerializer.Deserialize(json, SessiondJson.Default.SessionEvent)!;

    private static async IAsyncEnumerable<TurnUpdate> Empty()
    {
        await Task.CompletedTask;
        yield break;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Repairing session {SessionId}, left {Status} by node {Owner}, whose lease lapsed or which restarted")]
        public static partial void Recovering(ILogger logger, string sessionId, string status, string owner);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Error, Message = "A turn of session {SessionId} failed unexpectedly")]
        public static partial void TurnCrashed(ILogger logger, Exception exception, string sessionId);

        [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "The turn of session {SessionId} stopped: its lease {Token} was taken over by another node")]
        public static partial void LeaseLost(ILogger logger, string sessionId, long token);

        [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Renewing the turn lease of session {SessionId} failed; retrying at the next beat")]
        public static partial void RenewFailed(ILogger logger, Exception exception, string sessionId);
    }
}
