using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Sessiond.Core.Events;
using Sessiond.Core.Sessions;

namespace Sessiond.Client;

/// <summary>
/// A typed client for Sessiond's native <c>/v1</c> API. Errors arrive as <see cref="SessiondApiException"/> carrying
/// the problem's stable code. The <see cref="HttpClient"/> must have its <c>BaseAddress</c> set to the server.
/// </summary>
public sealed class SessiondClient(HttpClient http)
{
    public Task<Session> CreateSessionAsync(CreateSessionCommand request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "v1/sessions", request, ClientJsonContext.Default.CreateSessionCommand,
            ClientJsonContext.Default.Session, headers: null, cancellationToken);

    public Task<SessionList> ListSessionsAsync(SessionListQuery query, CancellationToken cancellationToken = default)
    {
        var path = new StringBuilder("v1/sessions?");
        Append(path, "appName", query.AppName);
        Append(path, "userId", query.UserId);
        Append(path, "teamId", query.TeamId);
        Append(path, "scope", query.Scope);
        Append(path, "status", query.Status);
        Append(path, "starred", query.Starred is { } starred ? (starred ? "true" : "false") : null);
        Append(path, "limit", query.Limit?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Append(path, "cursor", query.Cursor);
        return SendAsync<object, SessionList>(HttpMethod.Get, path.ToString(), null, null, ClientJsonContext.Default.SessionList, null, cancellationToken);
    }

    /// <summary>Reads a session; <paramref name="events"/> is <c>all</c>, <c>none</c> or <c>recent</c>.</summary>
    public async Task<SessionDetail> GetSessionAsync(
        string sessionId, string events = "all", int? limit = null, long? afterSeq = null, CancellationToken cancellationToken = default)
    {
        var path = new StringBuilder($"v1/sessions/{Uri.EscapeDataString(sessionId)}?");
        Append(path, "events", events);
        Append(path, "limit", limit?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Append(path, "afterSeq", afterSeq?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var root = await SendAsync<object, JsonElement>(HttpMethod.Get, path.ToString(), null, null, ClientJsonContext.Default.JsonElement, null, cancellationToken);
        var session = root.Deserialize(ClientJsonContext.Default.Session)!;
        var list = root.GetProperty("events").Deserialize(ClientJsonContext.Default.ListSessionEvent)!;
        long? next = root.TryGetProperty("nextAfterSeq", out var n) ? n.GetInt64() : null;
        return new SessionDetail(session, list, next);
    }

    public Task<Session> UpdateSessionAsync(string sessionId, UpdateSessionCommand request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, $"v1/sessions/{Uri.EscapeDataString(sessionId)}", request,
            ClientJsonContext.Default.UpdateSessionCommand, ClientJsonContext.Default.Session, null, cancellationToken);

    public Task DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        SendAsync<object, JsonElement>(HttpMethod.Delete, $"v1/sessions/{Uri.EscapeDataString(sessionId)}", null, null, null, null, cancellationToken);

    /// <summary>Appends events; <paramref name="expectedLastSeq"/> guards against concurrent writers, and an idempotency key makes retries safe.</summary>
    public Task<AppendedEvents> AppendEventsAsync(
        string sessionId, IReadOnlyList<SessionEvent> events, long? expectedLastSeq = null, string? idempotencyKey = null,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"v1/sessions/{Uri.EscapeDataString(sessionId)}/events",
            new AppendEventsCommand { Events = [.. events], ExpectedLastSeq = expectedLastSeq },
            ClientJsonContext.Default.AppendEventsCommand, ClientJsonContext.Default.AppendedEvents,
            idempotencyKey is null ? null : [new("Idempotency-Key", idempotencyKey)], cancellationToken);

    public Task<EventList> ReadEventsAsync(string sessionId, long afterSeq = 0, int? limit = null, CancellationToken cancellationToken = default)
    {
        var path = new StringBuilder($"v1/sessions/{Uri.EscapeDataString(sessionId)}/events?");
        Append(path, "afterSeq", afterSeq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Append(path, "limit", limit?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return SendAsync<object, EventList>(HttpMethod.Get, path.ToString(), null, null, ClientJsonContext.Default.EventList, null, cancellationToken);
    }

    private async Task<TResponse> SendAsync<TRequest, TResponse>(
        HttpMethod method, string path, TRequest? body, JsonTypeInfo<TRequest>? requestType, JsonTypeInfo<TResponse>? responseType,
        KeyValuePair<string, string>[]? headers, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null && requestType is not null)
        {
            request.Content = JsonContent.Create(body, requestType);
        }

        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await ToExceptionAsync(response, cancellationToken);
        }

        return responseType is null
            ? default!
            : (await response.Content.ReadFromJsonAsync(responseType, cancellationToken))!;
    }

    private static async Task<SessiondApiException> ToExceptionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            var problem = JsonSerializer.Deserialize(text, ClientJsonContext.Default.JsonElement);
            var code = problem.TryGetProperty("code", out var c) ? c.GetString() ?? "" : "";
            var title = problem.TryGetProperty("title", out var t) ? t.GetString() ?? "" : text;
            return new SessiondApiException(response.StatusCode, code, title, problem);
        }
        catch (JsonException)
        {
            return new SessiondApiException(response.StatusCode, "", text, null);
        }
    }

    private static void Append(StringBuilder path, string name, string? value)
    {
        if (value is null)
        {
            return;
        }

        if (path[^1] != '?')
        {
            path.Append('&');
        }

        path.Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }
}
