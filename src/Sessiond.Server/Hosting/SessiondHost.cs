using Sessiond.Server.Adk;
using Sessiond.Server.Auth;
using Sessiond.Server.Native;
using Sessiond.Server.Operations;
using Sessiond.Server.Streams;

namespace Sessiond.Server.Hosting;

/// <summary>Builds the whole server: every surface, in one process, over one domain core and one store.</summary>
public static class SessiondHost
{
    /// <summary>The address served when none is configured: loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    private static readonly Dictionary<string, string> SwitchMappings = new()
    {
        ["--data-dir"] = "Sessiond:Storage:DataDir",
    };

    /// <summary>Creates the application from command-line arguments; <paramref name="configure"/> lets tests adjust the builder.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
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

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<CallerMiddleware>();
        HealthApi.Map(app);
        NativeSessionsApi.Map(app);
        NativeAppsApi.Map(app);
        SessionStreamsApi.Map(app);
        AdkApi.Map(app);
        AdkApi.Map(app.MapGroup("/api"));
        return app;
    }
}
