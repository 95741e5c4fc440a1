using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Sessiond.Client;
using Sessiond.Server.Hosting;

namespace Sessiond.Server.Tests;

/// <summary>
/// A real Sessiond server on Kestrel, bound to 127.0.0.1 on a port the OS picks, over a fresh SQLite directory.
/// Test classes share one through <see cref="IClassFixture{TFixture}"/> and keep apart by using unique ids.
/// </summary>
public class SessiondServer : IAsyncLifetime
{
    private WebApplication? _app;

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "sessiond-test-" + Guid.NewGuid().ToString("N"));

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public SessiondClient Client { get; private set; } = null!;

    /// <summary>The running app's services, for tests that look inside (such as the stream hub's subscriber count).</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>Extra command-line arguments, for fixtures that change configuration.</summary>
    protected virtual string[] ExtraArgs => [];

    public async ValueTask InitializeAsync()
    {
        _app = SessiondHost.Build(["--urls", "http://127.0.0.1:0", "--data-dir", DataDir, "--Logging:LogLevel:Default=Warning", .. ExtraArgs]);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        BaseAddress = new Uri(address + "/");
        Http = new HttpClient { BaseAddress = BaseAddress };
        Client = new SessiondClient(Http);
    }

    public virtual async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (Directory.Exists(DataDir))
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }

    /// <summary>A unique id for one test's sessions, apps and users.</summary>
    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";
}
