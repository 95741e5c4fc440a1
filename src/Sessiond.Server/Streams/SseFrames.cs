using System.Buffers;
using System.Globalization;
using System.Text;

namespace Sessiond.Server.Streams;

/// <summary>
/// Encodes Server-Sent Events frames. Data is compact JSON, which never holds a raw line break, so each frame
/// has exactly one <c>data:</c> line.
/// </summary>
public static class SseFrames
{
    public static readonly StreamFrame Ping = new(FrameKind.Ping, 0, ": ping\n\n"u8.ToArray());

    /// <summary><c>id: seq</c>, <c>event: event</c>, <c>data: json</c>.</summary>
    public static StreamFrame Event(long seq, ReadOnlySpan<byte> json) => new(FrameKind.Event, seq, Encode(seq, "event", json));

    /// <summary>A frame with an id, for resumable feeds: <c>id: position</c>, <c>event: name</c>, <c>data: json</c>.</summary>
    public static StreamFrame Notice(long id, string name, ReadOnlySpan<byte> json) => new(FrameKind.Notice, id, Encode(id, name, json));

    /// <summary>A frame without an id, which a client cannot resume from: deltas, status changes, the end.</summary>
    public static StreamFrame Unnumbered(FrameKind kind, string name, ReadOnlySpan<byte> json) => new(kind, 0, Encode(null, name, json));

    /// <summary>Writes an event frame straight into <paramref name="output"/>, for catch-up reads that need no shared copy.</summary>
    public static void WriteEvent(IBufferWriter<byte> output, long seq, ReadOnlySpan<byte> json)
    {
        var head = output.GetSpan(48);
        "id: "u8.CopyTo(head);
        seq.TryFormat(head[4..], out var digits, provider: CultureInfo.InvariantCulture);
        var length = 4 + digits;
        "\nevent: event\ndata: "u8.CopyTo(head[length..]);
        output.Advance(length + 20);
        output.Write(json);
        output.Write("\n\n"u8);
    }

    private static byte[] Encode(long? id, string name, ReadOnlySpan<byte> json)
    {
        var head = id is { } value
            ? string.Create(CultureInfo.InvariantCulture, $"id: {value}\nevent: {name}\ndata: ")
            : $"event: {name}\ndata: ";
        var headLength = Encoding.ASCII.GetByteCount(head);
        var bytes = new byte[headLength + json.Length + 2];
        Encoding.ASCII.GetBytes(head, bytes);
        json.CopyTo(bytes.AsSpan(headLength));
        bytes[^2] = (byte)'\n';
        bytes[^1] = (byte)'\n';
        return bytes;
    }
}
