using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Sessiond.Core.Events;
using Sessiond.Core.Json;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Server.Http;

namespace Sessiond.Server.Streams;

/// <summary>
/// Fans committed events, feed notices and live deltas out to the subscribers of this node. The store tells it of each
/// commit in order; one dispatcher encodes every frame once and offers the same bytes to every subscriber, none of which
/// can block it. Catch-up reads are the subscribers' own business (<see cref="StreamPump"/>).
/// </summary>
public sealed partial class StreamHub : ICommitListener, ILiveBroadcaster, IHostedService, IDisposable
{
    private readonly ConcurrentDictionary<string, Topic> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string App, string User), Topic> _users = new();
    private readonly Channel<Action> _dispatch = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly StreamOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<StreamHub> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _dispatcher;
    private Task? _pinger;

    public StreamHub(StreamOptions options, TimeProvider time, ILogger<StreamHub> logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Subscribers currently attached, over all topics.</summary>
    public int SubscriberCount => _sessions.Values.Sum(t => t.Count) + _users.Values.Sum(t => t.Count);

    /// <summary>Subscribes to a session's events, deltas, status changes and end. Subscribe before reading the store.</summary>
    public StreamSubscription SubscribeSession(string sessionId) => Subscribe(_sessions, sessionId);

    /// <summary>Subscribes to the feed notices of one user's sessions in one app.</summary>
    public StreamSubscription SubscribeUser(string appName, string userId) => Subscribe(_users, (appName, userId));

    /// <inheritdoc />
    public void OnCommitted(CommittedChange change) => _dispatch.Writer.TryWrite(() => Deliver(change));

    /// <summary>
    /// Commits of other nodes may have gone unheard: every subscriber is marked lagging and woken, so each re-reads the
    /// store after its own cursor (events, status and deletion for a session; notices for a feed).
    /// </summary>
    public void OnChangesMissed() => _dispatch.Writer.TryWrite(() =>
    {
        foreach (var topic in _sessions.Values.Concat(_users.Values))
        {
            topic.Resync();
        }
    });

    /// <inheritdoc />
    public void BroadcastPartial(string sessionId, SessionEvent partial) =>
        _dispatch.Writer.TryWrite(() =>
        {
            if (_sessions.TryGetValue(sessionId, out var topic))
            {
                topic.Offer(SseFrames.Unnumbered(FrameKind.Delta, "delta", SessiondJson.SerializeEvent(partial)));
            }
        });

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _dispatcher = Task.Run(DispatchAsync, CancellationToken.None);
        _pinger = Task.Run(PingAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _dispatch.Writer.TryComplete();
        await _stopping.CancelAsync();
        await Task.WhenAll(_dispatcher ?? Task.CompletedTask, _pinger ?? Task.CompletedTask).WaitAsync(cancellationToken);
    }

    public void Dispose() => _stopping.Dispose();

    /// <summary>Encodes the change's frames once and offers them to the session's and the user's subscribers.</summary>
    private void Deliver(CommittedChange change)
    {
        var notice = change.Notice;
        if (_sessions.TryGetValue(change.SessionId, out var sessionTopic))
        {
            foreach (var stored in change.Events)
            {
                sessionTopic.Offer(SseFrames.Event(stored.Seq, stored.Json));
            }

            if (notice?.Kind == FeedNoticeKind.Status)
            {
                sessionTopic.Offer(StatusFrame(notice.Status));
            }
            else if (notice?.Kind == FeedNoticeKind.Deleted)
            {
                sessionTopic.Offer(EndFrame);
            }
        }

        if (notice is not null && _users.TryGetValue((notice.AppName, notice.UserId), out var userTopic))
        {
            userTopic.Offer(NoticeFrame(notice));
        }
    }

    public static StreamFrame NoticeFrame(FeedNotice notice) =>
        SseFrames.Notice(notice.Id, notice.Kind, JsonSerializer.SerializeToUtf8Bytes(notice, ServerJsonContext.Default.FeedNotice));

    public static StreamFrame StatusFrame(string status) =>
        SseFrames.Unnumbered(FrameKind.Status, "status", JsonSerializer.SerializeToUtf8Bytes(new StatusFrameBody(status), ServerJsonContext.Default.StatusFrameBody));

    public static readonly StreamFrame EndFrame = SseFrames.Unnumbered(FrameKind.End, "end", """{"reason":"deleted"}"""u8);

    private async Task DispatchAsync()
    {
        await foreach (var work in _dispatch.Reader.ReadAllAsync())
        {
            try
            {
                work();
            }
            catch (Exception ex)
            {
                LogDispatchFailed(_logger, ex);
            }
        }
    }

    private async Task PingAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.PingIntervalSeconds), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                foreach (var topic in _sessions.Values.Concat(_users.Values))
                {
                    topic.Offer(SseFrames.Ping);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    private StreamSubscription Subscribe<TKey>(ConcurrentDictionary<TKey, Topic> topics, TKey key) where TKey : notnull
    {
        while (true)
        {
            var topic = topics.GetOrAdd(key, static _ => new Topic());
            StreamSubscription? subscription = null;
            subscription = new StreamSubscription(_options.SubscriberBufferFrames, s => Unsubscribe(topics, key, topic, s));
            if (topic.TryAdd(subscription))
            {
                return subscription;
            }

            // The topic emptied and was being removed; take a fresh one.
        }
    }

    private static void Unsubscribe<TKey>(ConcurrentDictionary<TKey, Topic> topics, TKey key, Topic topic, StreamSubscription subscription)
        where TKey : notnull
    {
        if (topic.Remove(subscription))
        {
            // The last subscriber removes the topic, so topics never outlive their subscribers.
            topics.TryRemove(new KeyValuePair<TKey, Topic>(key, topic));
        }
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Error, Message = "Delivering a committed change to streams failed")]
    private static partial void LogDispatchFailed(ILogger logger, Exception exception);

    /// <summary>The subscribers of one session or one user feed; an array replaced on change, read without locks.</summary>
    private sealed class Topic
    {
        private readonly Lock _lock = new();
        private StreamSubscription[] _subscribers = [];
        private bool _closed;

        public int Count => Volatile.Read(ref _subscribers).Length;

        public void Offer(StreamFrame frame)
        {
            foreach (var subscriber in Volatile.Read(ref _subscribers))
            {
                subscriber.Offer(frame);
            }
        }

        public void Resync()
        {
            foreach (var subscriber in Volatile.Read(ref _subscribers))
            {
                subscriber.Resync();
            }
        }

        public bool TryAdd(StreamSubscription subscription)
        {
            lock (_lock)
            {
                if (_closed)
                {
                    return false;
                }

                _subscribers = [.. _subscribers, subscription];
                return true;
            }
        }

        /// <summary>Removes the subscriber; true when that emptied (and so closed) the topic.</summary>
        public bool Remove(StreamSubscription subscription)
        {
            lock (_lock)
            {
                _subscribers = Array.FindAll(_subscribers, s => !ReferenceEquals(s, subscription));
                _closed = _subscribers.Length == 0;
                return _closed;
            }
        }
    }
}

/// <summary>The data of an <c>event: status</c> frame.</summary>
public sealed record StatusFrameBody(string Status);
