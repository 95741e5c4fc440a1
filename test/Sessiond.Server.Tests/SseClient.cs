using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace Sessiond.Server.Tests;

/// <summary>
/// A small, real Server-Sent Events client: one GET read with <see cref="HttpCompletionOption.ResponseHeadersRead"/>,
/// whose body is parsed line by line (<c>id:</c>, <c>event:</c>, <c>data:</c>, comments) into frames on a channel.
/// <see cref="ReconnectAsync"/> opens the same path again with <c>Last-Event-ID</c> set to the last id received, as a
/// browser's EventSource does. <see cref="Pause"/> stops reading the socket, making a deliberately slow reader.
/// </summary>
public sealed class SseClient : IAsyncDisposable
{
    /// <summary>How long a wait for a frame lasts unless the caller says otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly HttpResponseMessage _response;
    private readonly Channel<SseFrame> _frames = Channel.CreateUnbounded<SseFrame>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _pauseLock = new();
    private readonly Task _reading;
    private TaskCompletionSource _running = NewGate(open: true);
    private string? _lastEventId;
    private int _disposed;

    private SseClient(HttpClient http, string path, HttpResponseMessage response, Stream body, string? lastEventId)
    {
        _http = http;
        Path = path;
        _response = response;
        _lastEventId = lastEventId;
        _reading = Task.Run(() => ReadFramesAsync(body));
    }

    /// <summary>The path (with query) this client streams.</summary>
    public string Path { get; }

    /// <summary>The answer's status and headers.</summary>
    public HttpResponseMessage Response => _response;

    /// <summary>The frames received so far, in order; completes (with the error, if any) when the stream closes.</summary>
    public ChannelReader<SseFrame> Frames => _frames.Reader;

    /// <summary>The id of the last frame received that had one (or the id this client resumed from).</summary>
    public string? LastEventId => Volatile.Read(ref _lastEventId);

    /// <summary>
    /// Opens <paramref name="path"/> as an event stream, optionally resuming after <paramref name="lastEventId"/>, and
    /// starts reading it. Fails, with the body in the message, unless the answer is 200 <c>text/event-stream</c>.
    /// </summary>
    public static async Task<SseClient> ConnectAsync(HttpClient http, string path, string? lastEventId = null, TimeSpan? timeout = null)
    {
        var response = await SendAsync(http, path, lastEventId, timeout);
        try
        {
            if (response.StatusCode != HttpStatusCode.OK || response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                throw new InvalidOperationException(
                    $"GET {path} answered {(int)response.StatusCode} {response.Content.Headers.ContentType} instead of an event stream: "
                    + await response.Content.ReadAsStringAsync());
            }

            var body = await response.Content.ReadAsStreamAsync();
            return new SseClient(http, path, response, body, lastEventId);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends the stream request and returns the answer once its headers arrive, without reading the body: for checking
    /// answers that must come before a stream starts (400, 404). The caller disposes it.
    /// </summary>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string? lastEventId = null, TimeSpan? timeout = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        var wait = timeout ?? DefaultTimeout;
        using var deadline = new CancellationTokenSource(wait);
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"Timed out after {wait.TotalSeconds:0.#} s waiting for the answer headers of GET {path}.");
        }
    }

    /// <summary>
    /// An HTTP client for <paramref name="baseAddress"/> whose connections have a small socket receive buffer, so a
    /// paused client pushes back on the server quickly instead of hiding megabytes in the kernel.
    /// </summary>
    public static HttpClient CreateHttpClient(Uri baseAddress, int receiveBufferBytes)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = receiveBufferBytes };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress };
    }

    /// <summary>Opens this client's path again, resuming with <c>Last-Event-ID</c>; <paramref name="http"/> may point at a restarted server.</summary>
    public Task<SseClient> ReconnectAsync(HttpClient? http = null) => ConnectAsync(http ?? _http, Path, LastEventId);

    /// <summary>Stops reading the socket: the server's writes back up until <see cref="Resume"/>.</summary>
    public void Pause()
    {
        lock (_pauseLock)
        {
            if (_running.Task.IsCompleted)
            {
                _running = NewGate(open: false);
            }
        }
    }

    /// <summary>Reads the socket again after <see cref="Pause"/>.</summary>
    public void Resume()
    {
        lock (_pauseLock)
        {
            _running.TrySetResult();
        }
    }

    /// <summary>The next frame, comments included; fails naming <paramref name="what"/> on a timeout or when the stream ends first.</summary>
    public async Task<SseFrame> NextAsync(string what, TimeSpan? timeout = null)
    {
        var wait = timeout ?? DefaultTimeout;
        using var deadline = new CancellationTokenSource(wait);
        try
        {
            return await _frames.Reader.ReadAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"Timed out after {wait.TotalSeconds:0.#} s waiting for {what} on GET {Path} "
                + $"(last event id {LastEventId ?? "none"}, {_frames.Reader.Count} frames queued, reader {(_reading.IsCompleted ? "stopped" : "running")}).");
        }
        catch (ChannelClosedException ex)
        {
            throw new InvalidOperationException(
                $"The stream GET {Path} ended while waiting for {what} (last event id {LastEventId ?? "none"}).", ex.InnerException ?? ex);
        }
    }

    /// <summary>
    /// Reads frames until one matches <paramref name="match"/>, within one deadline, and returns every frame read, the
    /// matching one last.
    /// </summary>
    public async Task<List<SseFrame>> ReadUntilAsync(Func<SseFrame, bool> match, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        var frames = new List<SseFrame>();
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var frame = await NextAsync($"{what} ({frames.Count} frames read before it)", left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            frames.Add(frame);
            if (match(frame))
            {
                return frames;
            }
        }
    }

    /// <summary>
    /// Waits until the stream is closed (cleanly or not) and every byte received has been parsed into <see cref="Frames"/>;
    /// fails naming what was expected on a timeout.
    /// </summary>
    public async Task WaitForCloseAsync(string what, TimeSpan? timeout = null)
    {
        var wait = timeout ?? DefaultTimeout;
        try
        {
            await _reading.WaitAsync(wait);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {wait.TotalSeconds:0.#} s waiting for the server to close GET {Path}: {what}.");
        }
    }

    /// <summary>Hangs up: cancels the read and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        Resume();
        _response.Dispose();
        await _reading; // never faults: the read loop reports its errors through the channel
        _stop.Dispose();
    }

    private static TaskCompletionSource NewGate(bool open)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open)
        {
            gate.SetResult();
        }

        return gate;
    }

    private async Task ReadFramesAsync(Stream body)
    {
        try
        {
            // A small buffer, so that a paused client stops taking bytes off the socket soon after it pauses.
            using var reader = new StreamReader(body, new UTF8Encoding(false, throwOnInvalidBytes: true), false, bufferSize: 256);
            string? id = null;
            string? name = null;
            StringBuilder? data = null;
            while (true)
            {
                Task gate;
                lock (_pauseLock)
                {
                    gate = _running.Task;
                }

                await gate.WaitAsync(_stop.Token);
                var line = await reader.ReadLineAsync(_stop.Token);
                if (line is null)
                {
                    break;
                }

                if (line.Length == 0)
                {
                    // A blank line dispatches the frame; one without data is dropped, as EventSource does.
                    if (data is not null)
                    {
                        if (id is not null)
                        {
                            Volatile.Write(ref _lastEventId, id);
                        }

                        _frames.Writer.TryWrite(new SseFrame(id, name ?? "message", data.ToString()));
                    }

                    (id, name, data) = (null, null, null);
                    continue;
                }

                if (line[0] == ':')
                {
                    _frames.Writer.TryWrite(new SseFrame(null, null, line[1..].TrimStart(' '), IsComment: true));
                    continue;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var field = colon < 0 ? line : line[..colon];
                var value = colon < 0 ? "" : line[(colon + 1)..];
                if (value.StartsWith(' '))
                {
                    value = value[1..];
                }

                switch (field)
                {
                    case "id":
                        id = value;
                        break;
                    case "event":
                        name = value;
                        break;
                    case "data":
                        data = data is null ? new StringBuilder(value) : data.Append('\n').Append(value);
                        break;
                    default:
                        break; // retry: and unknown fields are ignored
                }
            }

            _frames.Writer.TryComplete();
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            _frames.Writer.TryComplete();
        }
        catch (Exception ex)
        {
            _frames.Writer.TryComplete(ex);
        }
    }
}
