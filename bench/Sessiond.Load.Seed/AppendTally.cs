namespace Sessiond.Load.Seed;

/// <summary>
/// <c>tally</c>: reads every session of scenario (c) back through the native API and sums their <c>lastSeq</c>.
/// The sessions start empty, so the sum is the number of appends the store holds.
/// </summary>
internal static class AppendTally
{
    public static async Task<int> RunAsync(CommandLine options, CancellationToken cancellationToken)
    {
        var sessions = options.Int("append-sessions", 1000);
        var workers = options.Int("workers", 32);
        using var http = LoadHttp.Create(options.Required("url"), workers);
        long sum = 0;
        await Parallel.ForAsync(0, sessions, new ParallelOptions { MaxDegreeOfParallelism = workers, CancellationToken = cancellationToken }, async (i, token) =>
        {
            var (session, _) = await LoadHttp.GetJsonAsync(http, $"/v1/sessions/{LoadData.AppendSessionId(i)}?events=none", token);
            using (session)
            {
                Interlocked.Add(ref sum, session.RootElement.GetProperty("lastSeq").GetInt64());
            }
        });

        Output.Value("tally.sessions", sessions);
        Output.Value("tally.last_seq_sum", sum);
        return 0;
    }
}
