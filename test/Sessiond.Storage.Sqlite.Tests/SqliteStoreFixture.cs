using System.Collections.Concurrent;
using Sessiond.Core.Ports;
using Sessiond.Storage.Conformance;

namespace Sessiond.Storage.Sqlite.Tests;

/// <summary>SQLite stores on real files under a fresh temporary folder, deleted when the test class is done.</summary>
public sealed class SqliteStoreFixture : IStoreFixture, IAsyncLifetime
{
    private readonly ConcurrentDictionary<SqliteSessionStore, byte> _open = new();
    private SqliteSessionStore? _store;

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sessiond-sqlite-tests", Guid.NewGuid().ToString("N"));

    public ISessionStore Store => _store ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async ValueTask InitializeAsync() => _store = await OpenAsync("shared", new SqliteStoreOptions(), CancellationToken.None);

    public async Task<ISessionStore> OpenStoreAsync(
        string storageName, CancellationToken cancellationToken, ICommitListener? listener = null) =>
        await OpenAsync(storageName, new SqliteStoreOptions(), cancellationToken, listener);

    /// <summary>Opens a store on its own folder under <see cref="Root"/>, with the test's options.</summary>
    public async Task<SqliteSessionStore> OpenAsync(
        string storageName, SqliteStoreOptions options, CancellationToken cancellationToken, ICommitListener? listener = null)
    {
        var store = new SqliteSessionStore(options with { DataDirectory = DirectoryOf(storageName) }, listener);
        _open[store] = 0;
        await store.InitializeAsync(cancellationToken);
        return store;
    }

    public string DirectoryOf(string storageName) => Path.Combine(Root, storageName);

    public async Task CloseStoreAsync(ISessionStore store)
    {
        var sqlite = (SqliteSessionStore)store;
        _open.TryRemove(sqlite, out _);
        await sqlite.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _open.Keys)
        {
            await store.DisposeAsync();
        }

        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
