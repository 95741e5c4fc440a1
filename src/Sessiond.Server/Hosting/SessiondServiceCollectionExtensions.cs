using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Sessiond.Core.Json;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Server.Auth;
using Sessiond.Server.Http;
using Sessiond.Server.Runtime;
using Sessiond.Server.Streams;
using Sessiond.Storage.Postgres;
using Sessiond.Storage.Sqlite;

namespace Sessiond.Server.Hosting;

/// <summary>Wires the domain core, the configured store and the HTTP plumbing into a host.</summary>
public static class SessiondServiceCollectionExtensions
{
    public static WebApplicationBuilder AddSessiond(this WebApplicationBuilder builder)
    {
        var options = SessiondOptions.From(builder.Configuration);
        Validate(options);

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(options.Limits);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(options.Streams);
        services.AddSingleton<StreamHub>();
        services.AddSingleton<ILiveBroadcaster>(sp => sp.GetRequiredService<StreamHub>());
        if (options.Storage.IsPostgres)
        {
            services.AddSingleton<ISessionStore>(sp => new PostgresSessionStore(
                options.Storage.ToPostgres(),
                sp.GetRequiredService<StreamHub>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<PostgresSessionStore>>()));
        }
        else
        {
            services.AddSingleton<ISessionStore>(sp => new SqliteSessionStore(
                new SqliteStoreOptions { DataDirectory = options.Storage.DataDir, Synchronous = options.Storage.Synchronous },
                sp.GetRequiredService<StreamHub>(),
                sp.GetRequiredService<TimeProvider>()));
        }

        services.AddSingleton<SessionService>();
        services.AddSessiondAuthentication(options.Auth, options.RateLimit, options.Cors);
        services.AddAuthentication().AddHmacAuthentication(options.Auth.Hmac);
        services.AddSingleton<StoreReadiness>();
        services.AddHostedService(sp => sp.GetRequiredService<StoreReadiness>());
        services.AddHostedService(sp => sp.GetRequiredService<StreamHub>());
        services.AddSessiondRuntime(options.Agents, options.Runtime);

        services.AddProblemDetails(ProblemMapping.Customize);
        services.AddExceptionHandler<SessiondExceptionHandler>();
        services.Configure<JsonOptions>(json =>
        {
            // Contexts in a resolver chain take the host's options, so the wire conventions are restated here.
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ServerJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(1, SessiondJsonContext.Default);
            json.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            json.SerializerOptions.Converters.Add(new UtcTimestampConverter());
            json.SerializerOptions.Converters.Add(new StoredEventJsonConverter());
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.Limits.MaxRequestBodyBytes;
        });
        return builder;
    }

    private static void Validate(SessiondOptions options)
    {
        if (!options.Storage.IsPostgres && !string.Equals(options.Storage.Provider, StorageOptions.Sqlite, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"Sessiond:Storage:Provider '{options.Storage.Provider}' is not supported; use 'sqlite' (one node, the default) or 'postgres' (several nodes).");
        }

        if (options.Storage.IsPostgres && options.Storage.ToPostgres().Validate() is { } postgresProblem)
        {
            throw new InvalidOperationException(postgresProblem);
        }

        if (options.Storage.Synchronous.ToUpperInvariant() is not ("NORMAL" or "FULL"))
        {
            throw new InvalidOperationException(
                $"Sessiond:Storage:Synchronous '{options.Storage.Synchronous}' is not supported; use NORMAL (survives a crash) or FULL (survives power loss).");
        }

        if ((options.Limits.Validate() ?? options.Streams.Validate() ?? options.Runtime.Validate()) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
    }
}
