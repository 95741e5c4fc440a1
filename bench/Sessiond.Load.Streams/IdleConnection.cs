using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sessiond.Load.Streams;

/// <summary>
/// One open connection of the idle-memory scenario: an SSE stream that has had its first status frame (and is read in the
/// background, so pings are consumed), or, for the peer, a plain HTTP/1.1 connection that answered one <c>GET /healthz</c>
/// and stays open, idle.
/// </summary>
internal sealed class IdleConnection : IAsyncDisposable
{
    private readonly HttpResponseMessage? _response;
    private readonly Socket? _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _draining = Task.CompletedTask;
    private volatile bool _endedEarly;

    private IdleConnection(HttpResponseMessage response, SseReader reader)
    {
        _response = response;
        _draining = DrainAsync(reader);
    }

    private IdleConnection(Socket socket) => _socket = socket;

    /// <summary>True when the server closed the connection before the scenario did.</summary>
    public bool EndedEarly => _endedEarly || (_socket is not null && IsClosed(_socket));

    public static async Task<IdleConnection> OpenStreamAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        var response = await StreamsHttp.OpenStreamAsync(http, path, cancellationToken);
        try
        {
            var reader = new SseReader(await response.Content.ReadAsStreamAsync(cancellationToken), 512);
            if (!await reader.ReadUntilAsync(SseFrameKind.Status, cancellationToken))
            {
                throw new InvalidOperationException("The stream ended before its first status frame.");
            }

            return new IdleConnection(response, reader);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public static async Task<IdleConnection> OpenKeepAliveAsync(IPEndPoint server, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server, cancellationToken);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /healthz HTTP/1.1\r\nHost: {server}\r\n\r\n"), cancellationToken);
            await ReadOneResponseAsync(socket, cancellationToken);
            return new IdleConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _response?.Dispose();
        _socket?.Dispose();
        try
        {
            await _draining;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or HttpRequestException)
        {
            // Closing the connection ends the background read.
        }

        _stop.Dispose();
    }

    private async Task DrainAsync(SseReader reader)
    {
        await Task.Yield();
        try
        {
            while (await reader.ReadAsync(_stop.Token))
            {
                // Pings, or nothing: the session gets no events.
            }

            _endedEarly = true;
        }
        catch (Exception ex) when (!_stop.IsCancellationRequested && ex is IOException or HttpRequestException)
        {
            _endedEarly = true;
        }
    }

    /// <summary>Reads one answer with a <c>Content-Length</c> or a chunked body; fails unless it is a 200.</summary>
    private static async Task ReadOneResponseAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var length = 0;
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                throw new IOException("The server closed the connection before answering GET /healthz.");
            }

            length += read;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (headerEnd < 0)
            {
                continue;
            }

            if (!text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
            {
                throw new IOException($"GET /healthz answered '{text[..text.IndexOf('\r', StringComparison.Ordinal)]}'.");
            }

            var headers = text[..headerEnd].ToLowerInvariant();
            var contentLength = headers.IndexOf("\r\ncontent-length:", StringComparison.Ordinal);
            if (contentLength >= 0)
            {
                var valueStart = contentLength + "\r\ncontent-length:".Length;
                var valueEnd = headers.IndexOf('\r', valueStart);
                var bodyLength = int.Parse(headers[valueStart..(valueEnd < 0 ? headers.Length : valueEnd)].Trim(), CultureInfo.InvariantCulture);
                if (length >= headerEnd + 4 + bodyLength)
                {
                    return;
                }
            }
            else if (text.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal))
            {
                return;
            }
        }
    }

    /// <summary>True when the peer closed the socket (readable with nothing to read) or it failed.</summary>
    private static bool IsClosed(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
