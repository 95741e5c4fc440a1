using Sessiond.Server.Adk;
using Sessiond.Server.Auth;
using Sessiond.Server.Native;
using Sessiond.Server.Operations;
using Sessiond.Server.Runtime;
using Sessiond.Server.SessionManager;
using Sessiond.Server.Streams;
using Sessiond.Server.WebConsole;

namespace Sessiond.Server.Hosting;

/// <summary>Builds the whole server: every surface, in one process, over one domain core and one store.</summary>
public static partial class SessiondHost
{
    /// <summary>The address served when none is configured: loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    private static readonly Dictionary<string, string> SwitchMappings = new()
    {
        ["--data-dir"] = "Sessiond:Storage:DataDir",
        ["--agents-dir"] = "Sessiond:Agents:Directory",
    };

    /// <summary>Creates the application from command-line arguments; <paramref name="configure"/> lets tests adjust the builder.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // A bare flag, which the command-line configuration provider cannot read.
        var insecureNoAuth = args.Contains(InsecureNoAuthFlag);
        args = [.. args.Where(a => a != InsecureNoAuthFlag)];
        // appsettings.json is read from beside the binary, wherever the server is started from; relative data
        // directories still resolve against the working directory.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (Environment.GetEnvironmentVariable("SESSIOND_DATA_DIR") is { Length: > 0 } dataDir)
        {
            builder.Configuration.AddInMemoryCollection([new("Sessiond:Storage:DataDir", dataDir)]);
        }

        builder.Configuration.AddCommandLine(args, SwitchMappings);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.AddSessiond();
        configure?.Invoke(builder);
        var authConfigured = SessiondOptions.From(builder.Configuration).Auth.IsConfigured;
        RequireLoopbackWithoutAuth(builder.Configuration["urls"] ?? DefaultUrl, authConfigured, insecureNoAuth);

        var app = builder.Build();
        if (!authConfigured)
        {
            LogNoAuth(app.Logger, insecureNoAuth ? "--insecure-no-auth is set: every caller has full access" : "serving loopback only");
        }

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseSessiondAuthentication();
        HealthApi.Map(app);
        NativeSessionsApi.Map(app);
        NativeAppsApi.Map(app);
        SessionStreamsApi.Map(app);
        NativeTurnsApi.Map(app);
        AdkApi.Map(app);
        AdkApi.Map(app.MapGroup("/api"));
        SignedSessionManagerApi.Map(app);
        WebConsoleApi.Map(app);
        return app;
    }

    /// <summary>
    /// Without authentication every caller has full access, so the server only listens on loopback unless
    /// <c>--insecure-no-auth</c> says otherwise.
    /// </summary>
    public static void RequireLoopbackWithoutAuth(string urls, bool authConfigured, bool insecureNoAuth)
    {
        if (authConfigured || insecureNoAuth)
        {
            return;
        }

        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!IsLoopback(url))
            {
                throw new InvalidOperationException(
                    $"Refusing to serve {url} without authentication. Configure Sessiond:Auth (tokens, JWT or HMAC), " +
                    $"listen on a loopback address such as {DefaultUrl}, or pass {InsecureNoAuthFlag} to accept anyone.");
            }
        }
    }

    private static bool IsLoopback(string url)
    {
        var normalized = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri))
        {
            return false;
        }

        return uri.IsLoopback
            || (System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address));
    }

    private const string InsecureNoAuthFlag = "--insecure-no-auth";

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "No authentication is configured: {Consequence}.")]
    private static partial void LogNoAuth(ILogger logger, string consequence);
}
