using Sessiond.Core.Access;
using BenchmarkDotNet.Attributes;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Core.State;
using Sessiond.Core.Validation;
using Sessiond.Storage.Sqlite;

namespace Sessiond.Bench;

/// <summary>
/// Appending one event through <see cref="SqliteSessionStore.AppendEventsAsync"/> on a real file: alone (one append per
/// commit), and 64 at once, spread over 64 sessions or all on one, where group commit shares each transaction.
/// The concurrent benchmarks report the time per append.
/// </summary>
[MemoryDiagnoser]
public class SqliteAppendBenchmarks
{
    private const int Concurrency = 64;

    private readonly Task<AppendResult>[] _pending = new Task<AppendResult>[Concurrency];
    private readonly AppendBatch[] _spread = new AppendBatch[Concurrency];
    private string _directory = "";
    private SqliteSessionStore? _store;

    /// <summary>SQLite <c>synchronous</c>: NORMAL (the default) or FULL (an fsync per commit).</summary>
    [Params("NORMAL", "FULL")]
    public string Synchronous { get; set; } = "NORMAL";

    // Setup and cleanup block rather than return a Task: the in-process toolchain of BenchmarkDotNet 0.14 does not await
    // an async [GlobalSetup], so the first benchmark would start before the sessions exist.
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _directory = Path.Combine(Path.GetTempPath(), "sessiond-bench-" + Guid.NewGuid().ToString("N"));
        _store = new SqliteSessionStore(new SqliteStoreOptions { DataDirectory = _directory, Synchronous = Synchronous });
        await _store.InitializeAsync(CancellationToken.None);
        var sessions = new SessionService(_store, new SessiondLimits(), TimeProvider.System);
        var appended = SampleEvents.Appended();
        for (var i = 0; i < Concurrency; i++)
        {
            var id = $"bench-{i:D2}";
            await sessions.CreateAsync(Caller.System, new CreateSessionCommand { Id = id, AppName = "bench", UserId = "bench" }, CancellationToken.None);
            _spread[i] = new AppendBatch(id, [appended], StateChanges.None, appended.Usage!, null, null, DateTimeOffset.UtcNow);
        }
    }

    private async Task CleanupAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public Task<AppendResult> AppendOne() => _store!.AppendEventsAsync(_spread[0], CancellationToken.None);

    [Benchmark(OperationsPerInvoke = Concurrency)]
    public Task Append64ConcurrentSpread()
    {
        for (var i = 0; i < Concurrency; i++)
        {
            _pending[i] = _store!.AppendEventsAsync(_spread[i], CancellationToken.None);
        }

        return Task.WhenAll(_pending);
    }

    [Benchmark(OperationsPerInvoke = Concurrency)]
    public Task Append64ConcurrentHotSession()
    {
        for (var i = 0; i < Concurrency; i++)
        {
            _pending[i] = _store!.AppendEventsAsync(_spread[0], CancellationToken.None);
        }

        return Task.WhenAll(_pending);
    }
}
