using Sessiond.Core.Ports;

namespace Sessiond.Server.Hosting;

/// <summary>
/// Opens (and migrates) the store before the server accepts requests, and closes it after the server has stopped,
/// so queued commits finish before the process exits.
/// </summary>
public sealed class StoreReadiness(ISessionStore store, IHostApplicationLifetime lifetime) : IHostedService
{
    private volatile bool _ready;

    /// <summary>True once the store is initialised and until shutdown begins, so a load balancer drains the node first.</summary>
    public bool IsReady => _ready;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        _ready = true;
        lifetime.ApplicationStopping.Register(() => _ready = false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _ready = false;
        if (store is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
    }
}
