using System.Text.Json;

namespace Sessiond.Server.Tests;

/// <summary>Reads ADK's <c>run_sse</c> stream: <c>data: &lt;json&gt;</c> lines, each frame ended by a blank line, no event names.</summary>
public sealed class AdkDataFrames(Stream body) : IDisposable
{
    private readonly StreamReader _reader = new(body);

    /// <summary>The next frame's JSON, or null when the stream ended; fails on any line that is not ADK's framing.</summary>
    public async Task<JsonElement?> NextAsync(CancellationToken cancellationToken = default)
    {
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                throw new InvalidDataException($"Expected only 'data: ' lines, got '{line}'.");
            }

            var frame = JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
            if (await _reader.ReadLineAsync(cancellationToken) is { Length: > 0 } extra)
            {
                throw new InvalidDataException($"Expected a blank line after a frame, got '{extra}'.");
            }

            return frame;
        }

        return null;
    }

    /// <summary>Every remaining frame, until the stream ends.</summary>
    public async Task<List<JsonElement>> ToEndAsync(CancellationToken cancellationToken = default)
    {
        var frames = new List<JsonElement>();
        while (await NextAsync(cancellationToken) is { } frame)
        {
            frames.Add(frame);
        }

        return frames;
    }

    public void Dispose() => _reader.Dispose();
}
