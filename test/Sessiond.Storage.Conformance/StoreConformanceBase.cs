using Sessiond.Core.Access;
using System.Text.Json;
using Sessiond.Core.Events;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Core.State;
using Sessiond.Core.Validation;

namespace Sessiond.Storage.Conformance;

/// <summary>Helpers shared by the conformance classes. Every id a test makes is unique, so tests can share one store.</summary>
public abstract class StoreConformanceBase(IStoreFixture fixture)
{
    protected static readonly SessiondLimits Limits = new();

    protected IStoreFixture Fixture => fixture;

    protected ISessionStore Store => fixture.Store;

    protected SessionService Service => new(Store, Limits, TimeProvider.System);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A fixed, whole-millisecond instant for writes that name their own time.</summary>
    protected static readonly DateTimeOffset Epoch = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    protected static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    /// <summary>A JSON map from pairs; a null value becomes JSON null (which deletes a key).</summary>
    protected static Dictionary<string, JsonElement> Map(params (string Key, object? Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => JsonSerializer.SerializeToElement(p.Value));

    protected static SessionEvent Event(
        string text, Dictionary<string, JsonElement>? delta = null, EventUsage? usage = null, string author = "user") =>
        new()
        {
            Author = author,
            Content = new EventContent { Role = author == "user" ? "user" : "model", Parts = [new EventPart { Text = text }] },
            Actions = delta is null ? null : new EventActions { StateDelta = delta },
            Usage = usage,
        };

    protected static string TextOf(StoredEvent stored) => stored.ToEvent().Content!.Parts![0].Text!;

    protected Task<Session> CreateAsync(
        string app, string user, Dictionary<string, JsonElement>? state = null, List<SessionEvent>? events = null,
        string? teamId = null, string? scope = null, string? title = null, Dictionary<string, JsonElement>? metadata = null) =>
        Service.CreateAsync(Caller.System, new CreateSessionCommand
            {
                AppName = app,
                UserId = user,
                State = state,
                Events = events,
                TeamId = teamId,
                Scope = scope,
                Title = title,
                Metadata = metadata,
            },
            Ct);

    protected Task<AppendResult> AppendAsync(string sessionId, params SessionEvent[] events) =>
        Service.AppendAsync(Caller.System, sessionId, new AppendEventsCommand { Events = [.. events] }, null, Ct);

    protected Task<AppendResult> AppendAsync(string sessionId, long? expectedLastSeq, string? idempotencyKey, params SessionEvent[] events) =>
        Service.AppendAsync(Caller.System, sessionId, new AppendEventsCommand { Events = [.. events], ExpectedLastSeq = expectedLastSeq }, idempotencyKey, Ct);

    /// <summary>A session to create through the port directly, at a time the test chooses.</summary>
    protected static NewSession NewSessionAt(
        string id, string app, string user, DateTimeOffset now, string? teamId = null, string scope = SessionScope.User) =>
        new(id, app, user, teamId, scope, null, new Dictionary<string, JsonElement>(), [], StateChanges.None, EventUsage.Zero, now);

    /// <summary>An append through the port directly, at a time the test chooses.</summary>
    protected static AppendBatch BatchAt(string sessionId, DateTimeOffset now, params SessionEvent[] events) =>
        new(sessionId, events, StateChanges.FromEvents(events), events.Aggregate(EventUsage.Zero, (sum, e) => sum.Add(e.Usage)),
            null, null, now);

    protected async Task<IReadOnlyList<StoredEvent>> AllEventsAsync(string sessionId, ISessionStore? store = null) =>
        await (store ?? Store).ReadEventsAsync(sessionId, 0, int.MaxValue, Ct);
}
