using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Sessiond.Load.Streams;

/// <summary>HTTP to the server under test: clients, session creation, appends and opening an SSE stream.</summary>
internal static class StreamsHttp
{
    /// <summary>
    /// The typical model event (about 300 bytes of JSON) the HTTP load harness appends too; the server adds id, seq and
    /// timestamp.
    /// </summary>
    public const string SampleEventJson =
        "{\"author\":\"assistant\",\"invocationId\":\"inv-stream-bench\",\"content\":{\"role\":\"model\",\"parts\":[{\"text\":"
        + "\"The session keeps every event in order, so a client that reconnects reads what it missed and then follows "
        + "the live stream without gaps.\"}]},\"usage\":{\"inputTokens\":812,\"outputTokens\":64,\"cost\":0.0012}}";

    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>
    /// A client with no cap on connections per server: every SSE stream holds one HTTP/1.1 connection for its lifetime.
    /// No overall timeout, since streams are long; every call takes a cancellation token instead.
    /// </summary>
    public static HttpClient Create(string url, int maxConnections = int.MaxValue)
    {
        var baseAddress = new Uri(url.TrimEnd('/') + "/");
        if (!IPAddress.TryParse(baseAddress.Host, out var address) || !IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"--url must be a loopback address such as http://127.0.0.1:8080, not '{url}'.");
        }

        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            UseProxy = false,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
        };
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The body of one append of <paramref name="count"/> copies of <see cref="SampleEventJson"/>.</summary>
    public static byte[] AppendBody(int count) =>
        Encoding.UTF8.GetBytes("{\"events\":[" + string.Join(',', Enumerable.Repeat(SampleEventJson, count)) + "]}");

    public static async Task CreateSessionAsync(HttpClient http, string sessionId, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes($$"""{"appName":"bench","userId":"streams","id":"{{sessionId}}"}""");
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = Json;
        using var response = await http.PostAsync("v1/sessions", content, cancellationToken);
        await EnsureSuccessAsync(response, "POST /v1/sessions", cancellationToken);
    }

    /// <summary>Appends the events of <paramref name="body"/> and returns the session's <c>lastSeq</c> from the answer.</summary>
    public static async Task<long> AppendAsync(HttpClient http, string sessionId, byte[] body, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = Json;
        using var response = await http.PostAsync($"v1/sessions/{sessionId}/events", content, cancellationToken);
        await EnsureSuccessAsync(response, $"POST /v1/sessions/{sessionId}/events", cancellationToken);
        var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return FindLong(answer, "\"lastSeq\":"u8)
            ?? throw new InvalidOperationException($"POST /v1/sessions/{sessionId}/events answered without lastSeq.");
    }

    /// <summary>Opens <c>GET path</c> as an event stream and returns the response, whose body is the open stream.</summary>
    public static async Task<HttpResponseMessage> OpenStreamAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        try
        {
            await EnsureSuccessAsync(response, "GET /" + path, cancellationToken);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The whole number after the last occurrence of <paramref name="property"/> (such as <c>"lastSeq":</c>), or null when
    /// the property is absent or null. Enough for the server's compact JSON, without parsing the events around it.
    /// </summary>
    public static long? FindLong(ReadOnlySpan<byte> json, ReadOnlySpan<byte> property)
    {
        var at = json.LastIndexOf(property);
        if (at < 0)
        {
            return null;
        }

        return Utf8Parser.TryParse(json[(at + property.Length)..], out long value, out _) ? value : null;
    }

    public static async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new InvalidOperationException($"{what} answered {(int)response.StatusCode}: {body}");
        }
    }
}
