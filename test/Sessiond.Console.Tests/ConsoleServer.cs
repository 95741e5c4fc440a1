using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Sessiond.Server.Hosting;

namespace Sessiond.Console.Tests;

/// <summary>
/// The real server in process on 127.0.0.1 and a port the OS picks, over a fresh data directory and an agents
/// directory with the apps the console tests drive. Tests share it and keep apart by using unique user ids.
/// </summary>
public class ConsoleServer : IAsyncLifetime
{
    /// <summary>A scripted app whose first step calls <c>set_state</c>, which its permissions ask the user to approve.</summary>
    public const string ApprovalApp = "approval";

    /// <summary>An app whose model streams ten words, one every 400 ms: long enough to watch deltas and to cancel.</summary>
    public const string SlowApp = "slow";

    public const string ApprovalFinalText = "The color is set.";

    private WebApplication? _app;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "sessiond-console-" + Guid.NewGuid().ToString("N"));

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Another client of the same server, for changes the console must see live.</summary>
    public HttpClient Http { get; private set; } = null!;

    /// <summary>Extra command-line arguments, for fixtures that change configuration.</summary>
    protected virtual string[] ExtraArgs => [];

    public async ValueTask InitializeAsync()
    {
        var agents = Directory.CreateDirectory(Path.Combine(_root, "agents")).FullName;
        await File.WriteAllTextAsync(Path.Combine(agents, ApprovalApp + ".yaml"), $$$"""
            models:
              demo:
                provider: scripted
                script:
                  - toolCalls: [{name: set_state, args: {key: color, value: blue}}]
                  - text: {{{ApprovalFinalText}}}
            agents:
              root: {model: demo, instruction: Demo., tools: [builtin]}
            permissions: {ask: [set_state]}
            """);
        await File.WriteAllTextAsync(Path.Combine(agents, SlowApp + ".yaml"), """
            models:
              slow:
                provider: scripted
                chunkDelayMs: 400
                script:
                  - text: one two three four five six seven eight nine ten
            agents:
              root: {model: slow, instruction: Count.}
            """);
        _app = SessiondHost.Build(
        [
            "--urls", "http://127.0.0.1:0", "--data-dir", Path.Combine(_root, "data"), "--agents-dir", agents,
            "--Logging:LogLevel:Default=Warning", .. ExtraArgs,
        ]);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        BaseAddress = new Uri(address + "/");
        Http = new HttpClient { BaseAddress = BaseAddress };
    }

    /// <summary>Creates a session as another client would, and returns its id.</summary>
    public async Task<string> CreateSessionAsync(HttpClient client, string app, string user, string? title = null)
    {
        using var response = await client.PostAsJsonAsync("v1/sessions", new { appName = app, userId = user, title });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("id").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    /// <summary>A unique id, so tests sharing the server do not see each other's sessions.</summary>
    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";
}

/// <summary>The same server with a static bearer token, so authentication is on.</summary>
public sealed class AuthConsoleServer : ConsoleServer
{
    public const string Token = "console-test-token-0123456789";

    public const string User = "carol";

    protected override string[] ExtraArgs =>
    [
        $"--Sessiond:Auth:Tokens:0:Token={Token}",
        $"--Sessiond:Auth:Tokens:0:UserId={User}",
        "--Sessiond:RateLimit:PermitsPerSecond=10000",
        "--Sessiond:RateLimit:Burst=10000",
    ];
}
