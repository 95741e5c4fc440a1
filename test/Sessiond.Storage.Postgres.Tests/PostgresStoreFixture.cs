using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Sessiond.Core.Ports;
using Sessiond.Storage.Conformance;

namespace Sessiond.Storage.Postgres.Tests;

/// <summary>
/// PostgreSQL stores for one test class: a schema of its own for <see cref="Store"/>, and one more per storage name
/// for <see cref="OpenStoreAsync"/>. Every schema is dropped when the class is done.
/// </summary>
public sealed class PostgresStoreFixture : IStoreFixture, IAsyncLifetime
{
    private readonly ConcurrentDictionary<PostgresSessionStore, byte> _open = new();
    private readonly ConcurrentDictionary<string, byte> _schemas = new();
    private PostgresSessionStore? _store;

    public string Schema { get; } = TestDatabase.NewSchema();

    public ISessionStore Store
    {
        get
        {
            TestDatabase.Require();
            return _store ?? throw new InvalidOperationException("The fixture is not initialised.");
        }
    }

    public async ValueTask InitializeAsync()
    {
        if (TestDatabase.ConnectionString is null)
        {
            // Each test then skips, or fails in CI, through Store or OpenStoreAsync.
            return;
        }

        _store = await OpenAsync(Schema, null, CancellationToken.None);
    }

    public async Task<ISessionStore> OpenStoreAsync(string storageName, CancellationToken cancellationToken, ICommitListener? listener = null) =>
        await OpenAsync(SchemaOf(storageName), listener, cancellationToken);

    /// <summary>Opens and initialises a store on <paramref name="schema"/>, as one more node would.</summary>
    public async Task<PostgresSessionStore> OpenAsync(
        string schema, ICommitListener? listener, CancellationToken cancellationToken, PostgresStoreOptions? options = null)
    {
        var connectionString = TestDatabase.Require();
        _schemas[schema] = 0;
        var store = new PostgresSessionStore(
            (options ?? new PostgresStoreOptions()) with { ConnectionString = connectionString, Schema = schema }, listener);
        _open[store] = 0;
        await store.InitializeAsync(cancellationToken);
        return store;
    }

    /// <summary>A schema name for a storage name, the same for the same name within this fixture.</summary>
    public string SchemaOf(string storageName)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Schema + "/" + storageName)))[..16];
        return $"{Schema}_{hash}";
    }

    public async Task CloseStoreAsync(ISessionStore store)
    {
        var postgres = (PostgresSessionStore)store;
        _open.TryRemove(postgres, out _);
        await postgres.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _open.Keys)
        {
            await store.DisposeAsync();
        }

        await TestDatabase.DropSchemasAsync([Schema, .. _schemas.Keys]);
    }
}
