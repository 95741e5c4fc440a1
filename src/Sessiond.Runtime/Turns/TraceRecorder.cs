using System.Collections.Concurrent;

namespace Sessiond.Runtime.Turns;

/// <summary>One timed step of a turn: the turn itself, a model call or a tool call.</summary>
public sealed record TraceSpan(
    string Name,
    string SpanId,
    string TraceId,
    string? ParentSpanId,
    DateTimeOffset Start,
    DateTimeOffset End,
    IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// Keeps the spans of recent turns per session in memory, for the ADK web UI's trace view. It is a debugging aid, so it
/// is bounded (the newest spans of the newest sessions) and does not survive a restart.
/// </summary>
public sealed class TraceRecorder(TimeProvider time)
{
    private const int MaxSpansPerSession = 500;
    private const int MaxSessions = 1000;
    private readonly ConcurrentDictionary<string, List<TraceSpan>> _spans = new();
    private readonly ConcurrentQueue<string> _order = new();

    public TimeProvider Time => time;

    public void Record(string sessionId, TraceSpan span)
    {
        var list = _spans.GetOrAdd(sessionId, id =>
        {
            _order.Enqueue(id);
            return [];
        });
        lock (list)
        {
            if (list.Count >= MaxSpansPerSession)
            {
                list.RemoveAt(0);
            }

            list.Add(span);
        }

        while (_spans.Count > MaxSessions && _order.TryDequeue(out var oldest))
        {
            _spans.TryRemove(oldest, out _);
        }
    }

    /// <summary>The session's recorded spans, oldest first.</summary>
    public IReadOnlyList<TraceSpan> SpansOf(string sessionId)
    {
        if (!_spans.TryGetValue(sessionId, out var list))
        {
            return [];
        }

        lock (list)
        {
            return [.. list];
        }
    }

    /// <summary>Starts a span; dispose the returned scope to record it.</summary>
    public SpanScope Start(string sessionId, string name, string traceId, string? parentSpanId, Dictionary<string, string>? attributes = null) =>
        new(this, sessionId, name, traceId, parentSpanId, time.GetUtcNow(), attributes ?? []);

    /// <summary>An open span.</summary>
    public sealed class SpanScope(
        TraceRecorder recorder, string sessionId, string name, string traceId, string? parentSpanId, DateTimeOffset start,
        Dictionary<string, string> attributes) : IDisposable
    {
        public string SpanId { get; } = Guid.NewGuid().ToString("N")[..16];

        public Dictionary<string, string> Attributes => attributes;

        public void Dispose() => recorder.Record(sessionId,
            new TraceSpan(name, SpanId, traceId, parentSpanId, start, recorder.Time.GetUtcNow(), attributes));
    }
}
