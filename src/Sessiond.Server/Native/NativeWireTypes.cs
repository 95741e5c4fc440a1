using System.Text.Json;
using Sessiond.Core.Events;
using Sessiond.Core.Sessions;

namespace Sessiond.Server.Native;

/// <summary><c>GET /v1/sessions</c>: a page of sessions and the cursor of the next page.</summary>
public sealed record SessionListResponse(IReadOnlyList<Session> Sessions, string? NextCursor);

/// <summary><c>POST /v1/sessions/{id}/events</c>: the stored events with their assigned seq, id and timestamp.</summary>
public sealed record AppendEventsResponse(IReadOnlyList<StoredEvent> Events, long LastSeq);

/// <summary><c>GET /v1/sessions/{id}/events</c>: a page of events, and the afterSeq of the next page when more follow.</summary>
public sealed record EventsResponse(IReadOnlyList<StoredEvent> Events, long? NextAfterSeq);

/// <summary><c>GET /v1/apps</c>.</summary>
public sealed record AppsResponse(IReadOnlyList<string> Apps);

/// <summary><c>GET /v1/apps/{app}/state</c>: the <c>app:</c> keys, with their prefix.</summary>
public sealed record AppStateResponse(string AppName, IReadOnlyDictionary<string, JsonElement> State);

/// <summary><c>GET /v1/apps/{app}/users/{user}/state</c>: the <c>user:</c> keys, with their prefix.</summary>
public sealed record UserStateResponse(string AppName, string UserId, IReadOnlyDictionary<string, JsonElement> State);

/// <summary><c>POST /v1/sessions/{id}/events</c> with partial events: what was broadcast (202, no seq).</summary>
public sealed record PartialEventsResponse(IReadOnlyList<SessionEvent> Events);
