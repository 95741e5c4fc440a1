using System.Text.Json;
using Sessiond.Core.Events;
using Sessiond.Core.Sessions;

namespace Sessiond.Core.Ports;

/// <summary>
/// The storage port. Every provider keeps DESIGN.md's invariants 1–5 and passes the shared conformance suite.
/// Inputs arrive already validated and prepared by <see cref="SessionService"/>; the store assigns <c>seq</c>,
/// applies state changes and usage in the same transaction as the events, and keeps idempotency keys durably.
/// </summary>
public interface ISessionStore : ITurnStore
{
    /// <summary>Creates or migrates the schema. Called once at start, before any other member.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Creates the session with its initial state and events in one commit; <c>session_exists</c> for a taken id.</summary>
    Task<Session> CreateSessionAsync(NewSession session, CancellationToken cancellationToken);

    /// <summary>The session with its merged state, or null when it does not exist.</summary>
    Task<Session?> GetSessionAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>A page of sessions (state included, events not), newest <c>updatedAt</c> first, then id descending.</summary>
    Task<SessionPage> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken);

    /// <summary>Changes title, starred and metadata; <c>session_not_found</c> when missing.</summary>
    Task<Session> UpdateSessionAsync(string sessionId, SessionPatch patch, CancellationToken cancellationToken);

    /// <summary>Deletes the session, its events, its session-scope state and its idempotency keys. False when it did not exist.</summary>
    Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>
    /// Commits the batch atomically and returns it with the assigned <c>seq</c>s; or, for an idempotency key already seen on
    /// this session, the first result. Throws <c>session_not_found</c>, <c>seq_conflict</c> or <c>idempotency_key_reused</c>.
    /// </summary>
    Task<AppendResult> AppendEventsAsync(AppendBatch batch, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> events with <c>seq</c> greater than <paramref name="afterSeq"/>, ascending.</summary>
    Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(string sessionId, long afterSeq, int limit, CancellationToken cancellationToken);


    /// <summary>Up to <paramref name="limit"/> notices of the user's sessions in the app with a feed id above <paramref name="afterId"/>, oldest first.</summary>
    Task<IReadOnlyList<FeedNotice>> ReadFeedAsync(string appName, string userId, long afterId, int limit, CancellationToken cancellationToken);

    /// <summary>Every app that has had a session, in name order.</summary>
    Task<IReadOnlyList<string>> ListAppsAsync(CancellationToken cancellationToken);

    /// <summary>The app's <c>app:</c> state, without prefixes.</summary>
    Task<IReadOnlyDictionary<string, JsonElement>> GetAppStateAsync(string appName, CancellationToken cancellationToken);

    /// <summary>The user's <c>user:</c> state in the app, without prefixes.</summary>
    Task<IReadOnlyDictionary<string, JsonElement>> GetUserStateAsync(string appName, string userId, CancellationToken cancellationToken);
}
