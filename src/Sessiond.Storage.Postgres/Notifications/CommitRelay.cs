using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Sessiond.Core.Events;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Storage.Postgres.Reading;
using Sessiond.Storage.Postgres.Schema;

namespace Sessiond.Storage.Postgres.Notifications;

/// <summary>
/// One LISTEN connection per node, and the only caller of the node's <see cref="ICommitListener"/>. Every commit of
/// every node sends a <see cref="CommitHint"/>; PostgreSQL delivers notifications in commit order, so handing changes
/// to the listener in arrival order tells it of every commit of the whole cluster in one order (a local write and a
/// remote one included). For its own commits a node already holds the change in memory and the writer waits for the
/// echo; for other nodes' commits it reads the events and the notice from the tables, a batch of hints per query.
/// When the connection drops, hints sent meanwhile are lost: after reconnecting (LISTEN first) the listener is told
/// <see cref="ICommitListener.OnChangesMissed"/>, and re-reads from the store what its subscribers need.
/// </summary>
internal sealed partial class CommitRelay : IAsyncDisposable
{
    private const int HintsPerRead = 512;
    private static readonly TimeSpan FirstReconnectDelay = TimeSpan.FromMilliseconds(50);

    private readonly NpgsqlDataSource _source;
    private readonly PostgresStoreOptions _options;
    private readonly ICommitListener _listener;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, PendingDelivery> _pending = new();
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private bool _connected;
    private NpgsqlConnection? _connection;
    private Task? _loop;

    public CommitRelay(NpgsqlDataSource source, PostgresStoreOptions options, ICommitListener listener, TimeProvider time, ILogger logger)
    {
        _source = source;
        _options = options;
        _listener = listener;
        _time = time;
        _logger = logger;
    }

    /// <summary>This node's id in hints; new for every store instance.</summary>
    public string Node { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The server process id of the current LISTEN connection; null while disconnected.</summary>
    internal int? BackendProcessId
    {
        get
        {
            lock (_lock)
            {
                return _connected ? _connection?.ProcessID : null;
            }
        }
    }

    /// <summary>Test hook: awaited after a drop, before reconnecting, so a test can write while this node is deaf.</summary>
    internal Func<Task>? BeforeReconnect { get; set; }

    /// <summary>Opens and LISTENs on the first connection, so the store hears its own first commit; then runs in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var (connection, inbox) = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        _loop = Task.Run(() => RunAsync(connection, inbox), CancellationToken.None);
    }

    /// <summary>
    /// Remembers a change about to commit, to hand to the listener when its hint comes back. Null while disconnected:
    /// then the writer does not wait, and the reconnect's <see cref="ICommitListener.OnChangesMissed"/> covers the change.
    /// </summary>
    public PendingDelivery? Register(long token, CommittedChange change)
    {
        lock (_lock)
        {
            if (!_connected)
            {
                return null;
            }

            var pending = new PendingDelivery(token, change);
            _pending[token] = pending;
            return pending;
        }
    }

    /// <summary>Drops a registration whose transaction did not commit.</summary>
    public void Forget(PendingDelivery pending) => _pending.TryRemove(pending.Token, out _);

    /// <summary>Waits until the listener has been handed the change, at most <see cref="PostgresStoreOptions.DeliveryTimeout"/>.</summary>
    public async Task WaitDeliveredAsync(PendingDelivery pending)
    {
        try
        {
            await pending.Delivered.Task.WaitAsync(_options.DeliveryTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The hint will still be delivered if it comes; the writer just stops waiting for it.
            LogDeliverySlow(_logger, pending.Change.SessionId, _options.DeliveryTimeout);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private async Task RunAsync(NpgsqlConnection? connection, ConcurrentQueue<string>? inbox)
    {
        var delay = FirstReconnectDelay;
        var missed = false;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    if (connection is null || inbox is null)
                    {
                        if (BeforeReconnect is { } hook)
                        {
                            await hook().ConfigureAwait(false);
                        }

                        (connection, inbox) = await ConnectAsync(_stop.Token).ConfigureAwait(false);
                        delay = FirstReconnectDelay;
                        if (missed)
                        {
                            // LISTEN is on again, so anything committed from here on arrives as a hint; what was committed
                            // before is in the tables, where the listener now re-reads it.
                            missed = false;
                            LogReconnected(_logger);
                            _listener.OnChangesMissed();
                        }
                    }

                    await PumpAsync(connection, inbox, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    // Whatever broke the connection (a killed backend, a network drop, a restart), the cure is a new one.
                    LogDropped(_logger, ex, delay);
                    missed = true;
                    Disconnected();
                    if (connection is not null)
                    {
                        await DisposeQuietlyAsync(connection).ConfigureAwait(false);
                        connection = null;
                    }

                    await Task.Delay(delay, _time, _stop.Token).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Shutting down.
        }
        finally
        {
            Disconnected();
            if (connection is not null)
            {
                await DisposeQuietlyAsync(connection).ConfigureAwait(false);
            }
        }
    }

    private async Task<(NpgsqlConnection, ConcurrentQueue<string>)> ConnectAsync(CancellationToken cancellationToken)
    {
        var inbox = new ConcurrentQueue<string>();
        var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            connection.Notification += (_, e) => inbox.Enqueue(e.Payload);
            await using (var listen = new NpgsqlCommand($"LISTEN {PostgresSchema.Quote(_options.Channel)}", connection))
            {
                await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            lock (_lock)
            {
                _connection = connection;
                _connected = true;
            }

            return (connection, inbox);
        }
        catch
        {
            await DisposeQuietlyAsync(connection).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits for hints and hands each batch to the listener, in arrival order, until the connection fails.</summary>
    private async Task PumpAsync(NpgsqlConnection connection, ConcurrentQueue<string> inbox, CancellationToken cancellationToken)
    {
        var batch = new List<CommitHint>();
        while (true)
        {
            if (inbox.IsEmpty)
            {
                await connection.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            while (batch.Count < HintsPerRead && inbox.TryDequeue(out var payload))
            {
                if (CommitHint.Parse(payload) is { } hint)
                {
                    batch.Add(hint);
                }
            }

            if (batch.Count > 0)
            {
                await DeliverAsync(connection, batch, cancellationToken).ConfigureAwait(false);
                batch.Clear();
            }
        }
    }

    private async Task DeliverAsync(NpgsqlConnection connection, List<CommitHint> hints, CancellationToken cancellationToken)
    {
        var local = new PendingDelivery?[hints.Count];
        var remote = new List<CommitHint>();
        for (var i = 0; i < hints.Count; i++)
        {
            if (hints[i].Node == Node && _pending.TryRemove(hints[i].Token, out var pending))
            {
                local[i] = pending;
            }
            else
            {
                remote.Add(hints[i]);
            }
        }

        var (notices, events) = remote.Count == 0
            ? ([], [])
            : await ReadRemoteAsync(connection, remote, cancellationToken).ConfigureAwait(false);

        for (var i = 0; i < hints.Count; i++)
        {
            if (local[i] is { } pending)
            {
                Tell(pending.Change);
                pending.Delivered.TrySetResult();
                continue;
            }

            var hint = hints[i];
            if (!notices.TryGetValue(hint.FeedId, out var notice))
            {
                continue;
            }

            var stored = new List<StoredEvent>(hint.EventCount);
            for (var seq = hint.FirstSeq; seq <= hint.LastSeq; seq++)
            {
                // A session deleted since has lost its events; the streams learn that from the delete's own notice.
                if (events.TryGetValue((hint.SessionId, seq), out var json))
                {
                    stored.Add(new StoredEvent(seq, json));
                }
            }

            Tell(new CommittedChange(notice.SessionId, stored, notice));
        }
    }

    /// <summary>One round trip for a batch of other nodes' hints: their notices, and their events.</summary>
    private static async Task<(Dictionary<long, FeedNotice>, Dictionary<(string, long), byte[]>)> ReadRemoteAsync(
        NpgsqlConnection connection, List<CommitHint> hints, CancellationToken cancellationToken)
    {
        var withEvents = hints.Where(h => h.EventCount > 0).ToList();
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"SELECT {SessionRows.NoticeColumns} FROM feed WHERE id = ANY($1)")
                {
                    Parameters = { new NpgsqlParameter { Value = hints.Select(h => h.FeedId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint } },
                },
                new NpgsqlBatchCommand("""
                    SELECT e.session_id, e.seq, e.json
                    FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS h(session_id, first_seq, last_seq)
                    JOIN events e ON e.session_id = h.session_id AND e.seq BETWEEN h.first_seq AND h.last_seq
                    """)
                {
                    Parameters =
                    {
                        new NpgsqlParameter { Value = withEvents.Select(h => h.SessionId).ToArray() },
                        new NpgsqlParameter { Value = withEvents.Select(h => h.FirstSeq).ToArray() },
                        new NpgsqlParameter { Value = withEvents.Select(h => h.LastSeq).ToArray() },
                    },
                },
            },
        };

        var notices = new Dictionary<long, FeedNotice>();
        var events = new Dictionary<(string, long), byte[]>();
        await using var row = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await row.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var notice = SessionRows.ReadNotice(row);
            notices[notice.Id] = notice;
        }

        await row.NextResultAsync(cancellationToken).ConfigureAwait(false);
        while (await row.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            events[(row.GetString(0), row.GetInt64(1))] = row.GetFieldValue<byte[]>(2);
        }

        return (notices, events);
    }

    private void Tell(CommittedChange change)
    {
        try
        {
            _listener.OnCommitted(change);
        }
        catch (Exception ex)
        {
            // A listener must not throw; if it does, the other changes still go out.
            LogListenerFailed(_logger, ex);
        }
    }

    /// <summary>Stops registrations and releases every waiting writer: their hints may never come back now.</summary>
    private void Disconnected()
    {
        lock (_lock)
        {
            _connected = false;
            _connection = null;
            foreach (var token in _pending.Keys)
            {
                if (_pending.TryRemove(token, out var pending))
                {
                    pending.Delivered.TrySetResult();
                }
            }
        }
    }

    private static async Task DisposeQuietlyAsync(NpgsqlConnection connection)
    {
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException)
        {
            // The connection is already broken; closing it is all that was wanted.
        }
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Warning, Message = "The LISTEN connection dropped; reconnecting in {Delay}")]
    private static partial void LogDropped(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "The LISTEN connection is back; streams re-read what they missed from the store")]
    private static partial void LogReconnected(ILogger logger);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "A commit of session {SessionId} was not echoed within {Timeout}; the write answers without waiting")]
    private static partial void LogDeliverySlow(ILogger logger, string sessionId, TimeSpan timeout);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Error, Message = "The commit listener threw")]
    private static partial void LogListenerFailed(ILogger logger, Exception exception);
}

/// <summary>A committed change of this node waiting for its hint to come back before the listener hears of it.</summary>
internal sealed class PendingDelivery(long token, CommittedChange change)
{
    public long Token { get; } = token;

    public CommittedChange Change { get; } = change;

    public TaskCompletionSource Delivered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
