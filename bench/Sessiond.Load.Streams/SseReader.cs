using System.Buffers.Text;
using System.Diagnostics;

namespace Sessiond.Load.Streams;

/// <summary>The kind of an SSE frame, from its <c>event:</c> line.</summary>
internal enum SseFrameKind
{
    /// <summary>A durable event (<c>event: event</c>), with an id.</summary>
    Event,
    /// <summary><c>event: status</c>.</summary>
    Status,
    /// <summary><c>event: delta</c>.</summary>
    Delta,
    /// <summary><c>event: end</c>.</summary>
    End,
    /// <summary>Comment lines only, such as <c>: ping</c>.</summary>
    Comment,
    /// <summary>Any other event name.</summary>
    Other,
}

/// <summary>
/// Reads SSE frames straight from the response bytes, allocating nothing per frame: the server writes compact frames
/// ending in a blank line (<c>\n\n</c>), and only the id and the event name are parsed. The data stays in the buffer
/// until the next read.
/// </summary>
internal sealed class SseReader(Stream stream, int initialBufferBytes)
{
    private byte[] _buffer = new byte[initialBufferBytes];
    private int _start;
    private int _end;
    private int _dataStart;
    private int _dataLength;

    public SseFrameKind Kind { get; private set; }

    /// <summary>The frame's <c>id:</c>, or -1 when it has none.</summary>
    public long Id { get; private set; }

    /// <summary>The <c>data:</c> of the current frame; valid until the next <see cref="ReadAsync"/>.</summary>
    public ReadOnlySpan<byte> Data => _buffer.AsSpan(_dataStart, _dataLength);

    /// <summary>The <see cref="Stopwatch"/> timestamp taken as the read that completed the current frame returned.</summary>
    public long ReceivedAt { get; private set; }

    /// <summary>Bytes received so far, frames and separators included.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Reads the next frame; false when the server ended the response.</summary>
    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryTakeFrame())
            {
                return true;
            }

            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            if (_end == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                return false;
            }

            ReceivedAt = Stopwatch.GetTimestamp();
            BytesRead += read;
            _end += read;
        }
    }

    /// <summary>Reads frames until one of <paramref name="kind"/>; false when the server ended the response first.</summary>
    public async ValueTask<bool> ReadUntilAsync(SseFrameKind kind, CancellationToken cancellationToken)
    {
        while (await ReadAsync(cancellationToken))
        {
            if (Kind == kind)
            {
                return true;
            }
        }

        return false;
    }

    private bool TryTakeFrame()
    {
        var pending = _buffer.AsSpan(_start, _end - _start);
        var length = pending.IndexOf("\n\n"u8);
        if (length < 0)
        {
            return false;
        }

        Kind = SseFrameKind.Comment;
        Id = -1;
        _dataLength = 0;
        var frame = pending[..length];
        var offset = 0;
        while (offset < frame.Length)
        {
            var line = frame[offset..];
            var lineEnd = line.IndexOf((byte)'\n');
            if (lineEnd >= 0)
            {
                line = line[..lineEnd];
            }

            if (line.StartsWith("id: "u8))
            {
                Id = Utf8Parser.TryParse(line[4..], out long id, out _) ? id : -1;
            }
            else if (line.StartsWith("event: "u8))
            {
                Kind = KindOf(line[7..]);
            }
            else if (line.StartsWith("data: "u8))
            {
                _dataStart = _start + offset + 6;
                _dataLength = line.Length - 6;
            }

            offset += line.Length + 1;
        }

        _start += length + 2;
        return true;
    }

    private static SseFrameKind KindOf(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("event"u8) ? SseFrameKind.Event
        : name.SequenceEqual("status"u8) ? SseFrameKind.Status
        : name.SequenceEqual("delta"u8) ? SseFrameKind.Delta
        : name.SequenceEqual("end"u8) ? SseFrameKind.End
        : SseFrameKind.Other;
}
