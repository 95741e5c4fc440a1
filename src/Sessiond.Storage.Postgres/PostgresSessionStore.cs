using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Storage.Postgres.Notifications;
using Sessiond.Storage.Postgres.Schema;
using Sessiond.Storage.Postgres.Writing;

namespace Sessiond.Storage.Postgres;

/// <summary>
/// The PostgreSQL store, for several nodes sharing one database. Each write is one READ COMMITTED transaction on a
/// pooled connection. Writes to one session serialise on its row (<c>SELECT ... FOR UPDATE</c>), never on a global row;
/// each commit records a feed notice under a per-(app, user) advisory lock and sends a thin NOTIFY hint, and a
/// <see cref="CommitRelay"/> per node turns the hints of every node into <see cref="ICommitListener"/> calls in commit order.
/// Call <see cref="InitializeAsync"/> once before use; dispose to close the connections.
/// </summary>
public sealed partial class PostgresSessionStore : ISessionStore, IAsyncDisposable
{
    private const int MaxAttempts = 3;

    private readonly PostgresStoreOptions _options;
    private readonly ICommitListener? _listener;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _initializeLock = new();
    private NpgsqlDataSource? _dataSource;
    private NpgsqlDataSource? _listenSource;
    private CommitRelay? _relay;
    private Task? _initialized;
    private long _tokens;
    private int _disposed;

    /// <summary>
    /// Creates the store; nothing connects until <see cref="InitializeAsync"/>. <paramref name="listener"/>, when given,
    /// hears of every commit of every node sharing the schema, in commit order (it feeds live streams).
    /// </summary>
    /// <exception cref="ArgumentException">An option is not sound; the message says how to fix it.</exception>
    public PostgresSessionStore(
        PostgresStoreOptions options, ICommitListener? listener = null, TimeProvider? time = null, ILogger<PostgresSessionStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        _options = options;
        _listener = listener;
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The options the store runs with.</summary>
    public PostgresStoreOptions Options => _options;

    /// <summary>The node's relay of commit hints; null without a listener.</summary>
    internal CommitRelay? Relay => _relay;

    /// <summary>
    /// Connects, creates or migrates the schema (one node at a time, under an advisory lock) and, with a listener,
    /// opens the LISTEN connection. Calling it again returns the first call's task.
    /// </summary>
    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        lock (_initializeLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _initialized ??= StartAsync(cancellationToken);
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(_options.ConnectionString) { SearchPath = _options.Schema };
        // Statements used often become server-side prepared ones, per pooled connection.
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
        }

        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        await PostgresSchema.MigrateAsync(_dataSource, _options.Schema, cancellationToken).ConfigureAwait(false);

        if (_listener is not null)
        {
            // Its own data source, outside the pool: the connection lives as long as the store, and keepalives make a
            // silently dead one fail fast instead of leaving the node deaf.
            var listen = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false, MaxAutoPrepare = 0 };
            if (listen.KeepAlive == 0)
            {
                listen.KeepAlive = 15;
            }

            _listenSource = NpgsqlDataSource.Create(listen.ConnectionString);
            _relay = new CommitRelay(_listenSource, _options, _listener, _time, _logger);
            await _relay.StartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Closes the LISTEN connection and the pool. Writes in flight finish or fail on their own.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Task? initialized;
        lock (_initializeLock)
        {
            initialized = _initialized;
        }

        if (initialized is not null)
        {
            try
            {
                await initialized.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or InvalidOperationException)
            {
                // It never started; close what it opened.
            }
        }

        if (_relay is not null)
        {
            await _relay.DisposeAsync().ConfigureAwait(false);
        }

        if (_listenSource is not null)
        {
            await _listenSource.DisposeAsync().ConfigureAwait(false);
        }

        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    private NpgsqlDataSource DataSource =>
        _dataSource ?? throw new InvalidOperationException("Call InitializeAsync before using the PostgreSQL store.");

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction and commits it; with a listener, waits until the listener has
    /// heard of the change. Retries the whole transaction after a deadlock or serialization failure, and turns every
    /// other PostgreSQL error into the domain's vocabulary (<see cref="PostgresErrors"/>).
    /// </summary>
    private async Task<T> WriteAsync<T>(
        string? sessionId, Func<NpgsqlConnection, CancellationToken, Task<WriteOutcome<T>>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            PendingDelivery? pending = null;
            try
            {
                await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                var outcome = await work(connection, cancellationToken).ConfigureAwait(false);
                if (outcome.Change is { } change && _relay is { } relay)
                {
                    pending = relay.Register(outcome.Token, change);
                }

                // Not cancellable: a commit cut short leaves the caller unsure whether it happened.
                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                if (pending is not null)
                {
                    await _relay!.WaitDeliveredAsync(pending).ConfigureAwait(false);
                }

                return outcome.Result;
            }
            catch (PostgresException error)
            {
                Forget(pending);
                if (PostgresErrors.IsTransient(error) && attempt < MaxAttempts)
                {
                    continue;
                }

                var translated = PostgresErrors.Translate(error, sessionId);
                if (ReferenceEquals(translated, error))
                {
                    throw;
                }

                throw translated;
            }
            catch
            {
                Forget(pending);
                throw;
            }
        }
    }

    private void Forget(PendingDelivery? pending)
    {
        if (pending is not null)
        {
            _relay!.Forget(pending);
        }
    }

    /// <summary>
    /// The statement that ends every committing write: it takes the user's feed lock, records the notice and sends the
    /// commit's hint. The lock makes one user's notices take their ids in commit order (docs/decisions.md); it is taken
    /// last, after every row lock, so it is held only until the commit and lock order stays deadlock-free.
    /// Returns the statement and the token that identifies the commit's hint.
    /// </summary>
    private (NpgsqlBatchCommand Command, long Token) FeedCommand(FeedNotice notice, int eventCount)
    {
        var token = Interlocked.Increment(ref _tokens);
        var prefix = CommitHint.Prefix(_relay?.Node ?? "-", token, notice.LastSeq, eventCount, notice.SessionId);
        var command = Sql.Command(
            """
            WITH feed_lock AS (SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))),
            notice AS (
                INSERT INTO feed (app_name, user_id, session_id, kind, team_id, last_seq, status, title, at)
                SELECT $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM feed_lock
                RETURNING id)
            SELECT id, pg_notify($12, $13 || id) FROM notice
            """,
            _options.Schema + "/" + notice.AppName, notice.UserId,
            notice.AppName, notice.UserId, notice.SessionId, notice.Kind, notice.TeamId, notice.LastSeq, notice.Status, notice.Title,
            notice.At.ToUnixTimeMilliseconds(), _options.Channel, prefix);
        return (command, token);
    }

    /// <summary>What a write's transaction produced: the caller's result and, when it changed anything, its change and hint token.</summary>
    private readonly record struct WriteOutcome<T>(T Result, CommittedChange? Change, long Token);
}
