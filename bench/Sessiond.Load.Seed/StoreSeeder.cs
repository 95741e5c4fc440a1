using Sessiond.Core.Access;
using System.Diagnostics;
using System.Text.Json;
using Sessiond.Core.Sessions;
using Sessiond.Core.Validation;
using Sessiond.Storage.Sqlite;

namespace Sessiond.Load.Seed;

/// <summary>
/// <c>store</c>: creates many sessions in a data directory through the store itself, in process and before the server
/// starts on it, because a million HTTP round trips would dominate the harness's run time. The writes take the same
/// path as the server's (<see cref="SessionService"/> into <see cref="SqliteSessionStore"/>'s group commit).
/// </summary>
internal static class StoreSeeder
{
    public static async Task<int> RunAsync(CommandLine options, CancellationToken cancellationToken)
    {
        var dataDir = options.Required("data-dir");
        var sessions = options.Int("sessions", 1_000_000);
        var users = options.Int("users", 10_000);
        var inFlight = options.Int("in-flight", 4096);
        var state = new Dictionary<string, JsonElement>
        {
            ["topic"] = ParseElement("\"load harness\""),
            ["turns"] = ParseElement("0"),
        };

        // The store's writer holds a thread-pool thread for as long as writes keep coming, which on a 2-core machine
        // leaves one pool thread for everything else until the pool grows; more threads up front make seeding ~1.7x faster.
        ThreadPool.GetMinThreads(out var workerThreads, out var ioThreads);
        ThreadPool.SetMinThreads(Math.Max(workerThreads, 16), ioThreads);
        var stopwatch = Stopwatch.StartNew();
        var store = new SqliteSessionStore(new SqliteStoreOptions { DataDirectory = dataDir });
        await using (store)
        {
            await store.InitializeAsync(cancellationToken);
            var service = new SessionService(store, new SessiondLimits(), TimeProvider.System);
            var window = new List<Task>(inFlight);
            for (var i = 0; i < sessions; i++)
            {
                window.Add(service.CreateAsync(Caller.System, new CreateSessionCommand { AppName = LoadData.App, UserId = $"user-{i % users:D5}", Title = "Idle session", State = state },
                    cancellationToken));
                if (window.Count == inFlight)
                {
                    await Task.WhenAll(window);
                    window.Clear();
                }

                if ((i + 1) % 100_000 == 0)
                {
                    Output.Progress($"seed: {i + 1} of {sessions} stored sessions ({stopwatch.Elapsed.TotalSeconds:F0} s)");
                }
            }

            await Task.WhenAll(window);
        }

        Output.Value("store.sessions", sessions);
        Output.Value("store.users", users);
        Output.Seconds("store.seconds", stopwatch);
        Output.Value("store.db_bytes", new FileInfo(Path.Combine(dataDir, SqliteStoreOptions.FileName)).Length);
        return 0;
    }

    private static JsonElement ParseElement(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
