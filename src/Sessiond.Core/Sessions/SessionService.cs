using System.Security.Cryptography;
using System.Text.Json;
using Sessiond.Core.Access;
using Sessiond.Core.Errors;
using Sessiond.Core.Events;
using Sessiond.Core.Json;
using Sessiond.Core.Ports;
using Sessiond.Core.State;
using Sessiond.Core.Validation;

namespace Sessiond.Core.Sessions;

/// <summary>
/// The domain's entry point for every surface: checks what the <see cref="Caller"/> may do (<see cref="AccessPolicy"/>),
/// validates requests against <see cref="SessiondLimits"/>, assigns ids and timestamps, folds state deltas by scope,
/// and hands prepared writes to the store. A session the caller may not see answers exactly like a missing one.
/// </summary>
public sealed class SessionService(ISessionStore store, SessiondLimits limits, TimeProvider time, ILiveBroadcaster? live = null)
{
    /// <summary>The limits requests are checked against.</summary>
    public SessiondLimits Limits => limits;

    public async Task<Session> CreateAsync(Caller caller, CreateSessionCommand command, CancellationToken cancellationToken)
    {
        var appName = Ids.Require(command.AppName, "appName");
        AccessPolicy.RequireApp(caller, appName);
        var userId = Ids.Require(AccessPolicy.OwnerForCreate(caller, Ids.Optional(command.UserId, "userId")), "userId");
        var id = command.Id is null ? IdGenerator.NewId("ses", time) : Ids.Require(command.Id, "id");
        var teamId = Ids.Optional(command.TeamId, "teamId");
        var scope = command.Scope ?? SessionScope.User;
        if (!SessionScope.IsValid(scope))
        {
            SessionErrors.ThrowInvalid("'scope' must be 'user' or 'team'.");
        }

        if (scope == SessionScope.Team && teamId is null)
        {
            SessionErrors.ThrowInvalid("A session with scope 'team' needs a 'teamId'.");
        }

        if (teamId is not null && !caller.IsAdmin && !caller.Teams.Contains(teamId))
        {
            throw AccessPolicy.Forbidden("A session can only be given to a team the caller belongs to.");
        }

        ValidateStateKeys(command.State, "state");
        var now = time.GetUtcNow();
        var events = command.Events is { Count: > 0 } submitted ? PrepareEvents(submitted, now, hash: null) : [];
        var state = StateChanges.FromDeltas(
            [command.State, .. events.Select(e => (IReadOnlyDictionary<string, JsonElement>?)e.Actions?.StateDelta)]);
        var newSession = new NewSession(
            id, appName, userId, teamId, scope, ValidateTitle(command.Title), WithoutNulls(command.Metadata),
            events, state, SumUsage(events), now);
        return await store.CreateSessionAsync(newSession, cancellationToken);
    }

    /// <summary>
    /// A session and the events the read selects, up to the session's <see cref="Session.LastSeq"/> as read, so the
    /// events agree with the session's fields. Seqs have no gaps, so the selection is a seq range, read in pages as the
    /// caller consumes them.
    /// </summary>
    public async Task<SessionWithEvents> GetAsync(
        Caller caller, string sessionId, EventSelection selection, int? limit, long? afterSeq, CancellationToken cancellationToken)
    {
        var session = await RequireSessionAsync(caller, sessionId, cancellationToken);
        var max = ValidateEventLimit(limit);
        if (afterSeq < 0)
        {
            SessionErrors.ThrowInvalid("'afterSeq' must not be negative.");
        }

        switch (selection)
        {
            case EventSelection.None:
                return new SessionWithEvents(session, ReadPagesAsync(session.Id, 0, 0, cancellationToken), null);
            case EventSelection.Recent:
                return new SessionWithEvents(
                    session, ReadPagesAsync(session.Id, Math.Max(0, session.LastSeq - max), session.LastSeq, cancellationToken), null);
            default:
                var from = afterSeq ?? 0;
                var to = Math.Min(session.LastSeq, from + max);
                return new SessionWithEvents(session, ReadPagesAsync(session.Id, from, to, cancellationToken), to < session.LastSeq ? to : null);
        }
    }

    /// <summary>
    /// Reads a session and every event up to its <see cref="Session.LastSeq"/>, however many: for surfaces (ADK) whose
    /// clients expect the whole history. The events come in pages, read as the caller consumes them, so a long history
    /// is never held in memory at once.
    /// </summary>
    public async Task<(Session Session, IAsyncEnumerable<IReadOnlyList<StoredEvent>> Pages)> GetWithAllEventsAsync(
        Caller caller, string sessionId, CancellationToken cancellationToken)
    {
        var session = await RequireSessionAsync(caller, sessionId, cancellationToken);
        return (session, ReadPagesAsync(session.Id, 0, session.LastSeq, cancellationToken));
    }

    /// <summary>The events with seq in (<paramref name="afterSeq"/>, <paramref name="upToSeq"/>], a page at a time.</summary>
    private async IAsyncEnumerable<IReadOnlyList<StoredEvent>> ReadPagesAsync(
        string sessionId, long afterSeq, long upToSeq, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        const int PageSize = 1000;
        while (afterSeq < upToSeq)
        {
            var page = await store.ReadEventsAsync(sessionId, afterSeq, (int)Math.Min(PageSize, upToSeq - afterSeq), cancellationToken);
            if (page.Count == 0)
            {
                yield break;
            }

            afterSeq = page[^1].Seq;
            yield return page;
        }
    }

    /// <summary>The session, or <c>session_not_found</c> (also for an id that could never exist, or one the caller may not see).</summary>
    public async Task<Session> RequireSessionAsync(Caller caller, string sessionId, CancellationToken cancellationToken) =>
        await FindAsync(caller, sessionId, cancellationToken) ?? throw SessionErrors.SessionNotFound(sessionId);

    /// <summary>The session, or null when it does not exist, the id is not a valid id, or the caller may not see it.</summary>
    public async Task<Session?> FindAsync(Caller caller, string sessionId, CancellationToken cancellationToken) =>
        Ids.IsValid(sessionId) && await store.GetSessionAsync(sessionId, cancellationToken) is { } session && AccessPolicy.MaySee(caller, session)
            ? session
            : null;

    public async Task<EventPage> ReadEventsAsync(
        Caller caller, string sessionId, long? afterSeq, int? limit, CancellationToken cancellationToken)
    {
        var session = await RequireSessionAsync(caller, sessionId, cancellationToken);
        return await ReadPageAsync(session.Id, afterSeq ?? 0, ValidateEventLimit(limit), cancellationToken);
    }

    /// <summary>
    /// A page of the sessions the caller may see. A caller that is not an admin and names neither a user nor a team
    /// lists its own sessions.
    /// </summary>
    public Task<SessionPage> ListAsync(Caller caller, SessionQuery query, CancellationToken cancellationToken)
    {
        Ids.Optional(query.AppName, "appName");
        Ids.Optional(query.UserId, "userId");
        Ids.Optional(query.TeamId, "teamId");
        if (query.Scope is not null && !SessionScope.IsValid(query.Scope))
        {
            SessionErrors.ThrowInvalid("'scope' must be 'user' or 'team'.");
        }

        if (query.Status is not null && !SessionStatus.IsValid(query.Status))
        {
            SessionErrors.ThrowInvalid("'status' must be one of idle, running, waiting, failed.");
        }

        if (query.Limit < 1 || query.Limit > limits.MaxPageSize)
        {
            SessionErrors.ThrowInvalid($"'limit' must be 1-{limits.MaxPageSize}.");
        }

        if (query.AppName is not null)
        {
            AccessPolicy.RequireApp(caller, query.AppName);
        }

        if (!caller.IsAdmin && query.UserId is null && query.TeamId is null)
        {
            query = query with { UserId = AccessPolicy.RequireUser(caller) };
        }

        return store.ListSessionsAsync(query with { VisibleTo = AccessPolicy.VisibilityOf(caller) }, cancellationToken);
    }

    /// <summary>
    /// Every session matching <paramref name="query"/> that the caller may see, read page by page at the largest page
    /// size; for surfaces whose clients expect the whole list at once (ADK, the signed session-manager API).
    /// </summary>
    public async Task<IReadOnlyList<Session>> ListAllAsync(Caller caller, SessionQuery query, CancellationToken cancellationToken)
    {
        var all = new List<Session>();
        var page = new SessionPage([], null);
        query = query with { Limit = limits.MaxPageSize, After = null };
        do
        {
            page = await ListAsync(caller, query with { After = page.Next }, cancellationToken);
            all.AddRange(page.Sessions);
        }
        while (page.Next is not null);

        return all;
    }

    public async Task<Session> UpdateAsync(Caller caller, string sessionId, UpdateSessionCommand command, CancellationToken cancellationToken)
    {
        await RequireWritableAsync(caller, sessionId, cancellationToken);
        var patch = new SessionPatch(ValidateTitle(command.Title), command.Starred, command.Metadata, time.GetUtcNow());
        return await store.UpdateSessionAsync(sessionId, patch, cancellationToken);
    }

    public async Task DeleteAsync(Caller caller, string sessionId, CancellationToken cancellationToken)
    {
        await RequireWritableAsync(caller, sessionId, cancellationToken);
        if (!await store.DeleteSessionAsync(sessionId, cancellationToken))
        {
            throw SessionErrors.SessionNotFound(sessionId);
        }
    }

    public Task<AppendResult> AppendAsync(
        Caller caller, string sessionId, AppendEventsCommand command, string? idempotencyKey, CancellationToken cancellationToken) =>
        AppendAsync(caller, sessionId, command, idempotencyKey, fencingToken: null, cancellationToken);

    /// <summary>
    /// Appends events. A turn passes its <paramref name="fencingToken"/>, so a write of a turn whose lease was taken over
    /// is refused with <c>lease_lost</c>.
    /// </summary>
    public async Task<AppendResult> AppendAsync(
        Caller caller, string sessionId, AppendEventsCommand command, string? idempotencyKey, long? fencingToken,
        CancellationToken cancellationToken)
    {
        await RequireWritableAsync(caller, sessionId, cancellationToken);

        if (command.Events is not { Count: > 0 } submitted)
        {
            throw SessionErrors.Invalid("'events' must hold at least one event.");
        }

        if (command.ExpectedLastSeq is < 0)
        {
            SessionErrors.ThrowInvalid("'expectedLastSeq' must not be negative.");
        }

        using var requestHash = idempotencyKey is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (idempotencyKey is not null)
        {
            ValidateIdempotencyKey(idempotencyKey);
        }

        var events = PrepareEvents(submitted, time.GetUtcNow(), requestHash);
        IdempotencyToken? token = null;
        if (requestHash is not null)
        {
            requestHash.AppendData(BitConverter.GetBytes(command.ExpectedLastSeq ?? -1));
            token = new IdempotencyToken(idempotencyKey!, Convert.ToHexStringLower(requestHash.GetHashAndReset()));
        }

        var batch = new AppendBatch(
            sessionId, events, StateChanges.FromEvents(events), SumUsage(events), command.ExpectedLastSeq, token, time.GetUtcNow())
        {
            FencingToken = fencingToken,
        };
        return await store.AppendEventsAsync(batch, cancellationToken);
    }

    /// <summary>
    /// Broadcasts partial events to the session's live watchers. They are checked like any event, never stored, and
    /// carry no seq; the final event of the same step supersedes them.
    /// </summary>
    public async Task<IReadOnlyList<SessionEvent>> BroadcastPartialAsync(
        Caller caller, string sessionId, AppendEventsCommand command, CancellationToken cancellationToken)
    {
        if (command.Events is not { Count: > 0 } submitted || submitted.Any(e => e?.Partial != true))
        {
            throw SessionErrors.Invalid("Partial events are sent on their own: every event of the request must have 'partial: true'.");
        }

        var session = await RequireSessionAsync(caller, sessionId, cancellationToken);
        var events = PrepareEvents(submitted, time.GetUtcNow(), hash: null, keepPartial: true);
        foreach (var partial in events)
        {
            live?.BroadcastPartial(session.Id, partial);
        }

        return events;
    }

    /// <summary>Committed events after <paramref name="afterSeq"/>, for readers that already checked the session with <see cref="RequireSessionAsync"/>.</summary>
    public Task<IReadOnlyList<StoredEvent>> ReadCommittedAsync(string sessionId, long afterSeq, int limit, CancellationToken cancellationToken) =>
        store.ReadEventsAsync(sessionId, afterSeq, limit, cancellationToken);

    /// <summary>The user's feed of session notices in the app after the feed id <paramref name="afterId"/>, oldest first.</summary>
    public Task<IReadOnlyList<FeedNotice>> ReadFeedAsync(
        Caller caller, string appName, string userId, long afterId, int limit, CancellationToken cancellationToken)
    {
        RequireUserScope(caller, appName, userId);
        return store.ReadFeedAsync(appName, userId, afterId, limit, cancellationToken);
    }

    /// <summary>Checks, before anything is read, that the caller may follow the user's feed in the app.</summary>
    public void RequireUserScope(Caller caller, string appName, string userId)
    {
        AccessPolicy.RequireApp(caller, Ids.Require(appName, "appName"));
        Ids.Require(userId, "userId");
        if (!caller.IsAdmin && AccessPolicy.RequireUser(caller) != userId)
        {
            throw AccessPolicy.Forbidden("Only the user itself (or an admin) may read a user's feed or state.");
        }
    }

    public async Task<IReadOnlyList<string>> ListAppsAsync(Caller caller, CancellationToken cancellationToken) =>
        [.. (await store.ListAppsAsync(cancellationToken)).Where(app => AccessPolicy.MaySeeApp(caller, app))];

    public Task<IReadOnlyDictionary<string, JsonElement>> GetAppStateAsync(Caller caller, string appName, CancellationToken cancellationToken)
    {
        AccessPolicy.RequireApp(caller, Ids.Require(appName, "appName"));
        return store.GetAppStateAsync(appName, cancellationToken);
    }

    public Task<IReadOnlyDictionary<string, JsonElement>> GetUserStateAsync(
        Caller caller, string appName, string userId, CancellationToken cancellationToken)
    {
        RequireUserScope(caller, appName, userId);
        return store.GetUserStateAsync(appName, userId, cancellationToken);
    }

    /// <summary>
    /// A write needs a session the caller may see. The server itself skips the read: the store answers
    /// <c>session_not_found</c> for a missing one anyway.
    /// </summary>
    private async Task RequireWritableAsync(Caller caller, string sessionId, CancellationToken cancellationToken)
    {
        if (!Ids.IsValid(sessionId))
        {
            throw SessionErrors.SessionNotFound(sessionId);
        }

        if (!ReferenceEquals(caller, Caller.System))
        {
            await RequireSessionAsync(caller, sessionId, cancellationToken);
        }
    }

    private async Task<EventPage> ReadPageAsync(string sessionId, long afterSeq, int limit, CancellationToken cancellationToken)
    {
        if (afterSeq < 0)
        {
            SessionErrors.ThrowInvalid("'afterSeq' must not be negative.");
        }

        // One extra row tells whether another page follows without a second query.
        var events = await store.ReadEventsAsync(sessionId, afterSeq, limit + 1, cancellationToken);
        return events.Count > limit
            ? new EventPage(events.Take(limit).ToList(), events[limit - 1].Seq)
            : new EventPage(events, null);
    }

    private int ValidateEventLimit(int? limit)
    {
        if (limit is null)
        {
            return limits.MaxEventsPerRead;
        }

        if (limit < 1 || limit > limits.MaxEventsPerRead)
        {
            SessionErrors.ThrowInvalid($"'limit' must be 1-{limits.MaxEventsPerRead}.");
        }

        return limit.Value;
    }

    /// <summary>
    /// Checks each submitted event, feeds what was submitted to <paramref name="hash"/> (for idempotency), and returns the events to store:
    /// ids and timestamps filled in, client <c>seq</c> dropped, <c>temp:</c> keys removed from state deltas.
    /// </summary>
    private List<SessionEvent> PrepareEvents(
        List<SessionEvent> submitted, DateTimeOffset now, IncrementalHash? hash, bool keepPartial = false)
    {
        if (submitted.Count > limits.MaxEventsPerAppend)
        {
            SessionErrors.ThrowInvalid($"At most {limits.MaxEventsPerAppend} events may be appended at once.");
        }

        var prepared = new List<SessionEvent>(submitted.Count);
        for (var i = 0; i < submitted.Count; i++)
        {
            var evt = submitted[i] ?? throw SessionErrors.Invalid($"events[{i}] must be an object.");
            var json = SessiondJson.SerializeEvent(evt);
            if (json.Length > limits.MaxEventBytes)
            {
                SessionErrors.ThrowTooLarge($"events[{i}] is {json.Length} bytes of JSON; the limit is {limits.MaxEventBytes}.");
            }

            if (evt.Partial == true && !keepPartial)
            {
                SessionErrors.ThrowInvalid($"events[{i}] is partial; partial events are sent on their own and are never stored.");
            }

            if (evt.Usage is { IsNonNegative: false })
            {
                SessionErrors.ThrowInvalid($"events[{i}].usage must not be negative.");
            }

            hash?.AppendData(json);
            ValidateStateKeys(evt.Actions?.StateDelta, $"events[{i}].actions.stateDelta");
            prepared.Add(evt with
            {
                Seq = 0,
                Id = evt.Id is null ? IdGenerator.NewId("evt", time) : Ids.Require(evt.Id, $"events[{i}].id"),
                InvocationId = Ids.Optional(evt.InvocationId, $"events[{i}].invocationId"),
                Author = evt.Author ?? "user",
                Timestamp = evt.Timestamp ?? now,
                Partial = keepPartial ? true : null,
                Actions = WithoutTempKeys(evt.Actions),
            });
        }

        return prepared;
    }

    private static EventActions? WithoutTempKeys(EventActions? actions)
    {
        if (actions?.StateDelta is not { } delta || !delta.Keys.Any(StateKeys.IsTemp))
        {
            return actions;
        }

        return actions with { StateDelta = delta.Where(kv => !StateKeys.IsTemp(kv.Key)).ToDictionary() };
    }

    private static void ValidateStateKeys(Dictionary<string, JsonElement>? delta, string field)
    {
        if (delta is null)
        {
            return;
        }

        foreach (var key in delta.Keys)
        {
            if (key.Length is 0 or > 256)
            {
                SessionErrors.ThrowInvalid($"Keys of '{field}' must be 1-256 characters.");
            }
        }
    }

    private string? ValidateTitle(string? title)
    {
        if (title is not null && title.Length > limits.MaxTitleLength)
        {
            SessionErrors.ThrowInvalid($"'title' must be at most {limits.MaxTitleLength} characters.");
        }

        return title;
    }

    private void ValidateIdempotencyKey(string key)
    {
        if (key.Length == 0 || key.Length > limits.MaxIdempotencyKeyLength || key.Any(c => c is < '!' or > '~'))
        {
            SessionErrors.ThrowInvalid(
                $"'Idempotency-Key' must be 1-{limits.MaxIdempotencyKeyLength} printable ASCII characters without spaces.");
        }
    }

    private static Dictionary<string, JsonElement> WithoutNulls(Dictionary<string, JsonElement>? map) =>
        map is null ? [] : map.Where(kv => kv.Value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)).ToDictionary();

    private static EventUsage SumUsage(IEnumerable<SessionEvent> events) =>
        events.Aggregate(EventUsage.Zero, (sum, e) => sum.Add(e.Usage));
}
