using Sessiond.Load.Streams;

// The SSE load client of bench/streams/run.sh; it talks to a running server over loopback HTTP only. Results go to stdout
// as key=value lines that run.sh reads; progress goes to stderr. Commands:
//   latency --url URL [--server-pid PID] [--seconds 10] [--interval-ms 20] [--warmup 50] [--samples FILE]
//   fanout  --url URL [--server-pid PID] [--subscribers 5000] [--rate 10] [--seconds 20] [--open-concurrency 50]
//   idle    --url URL --server-pid PID [--kind stream|keepalive] [--count 10000] [--sessions 1000] [--open-concurrency 100]
//   replay  --url URL [--server-pid PID] [--events 100000] [--batch 1000] [--page 10000] [--runs 5]
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Sessiond.Load.Streams latency|fanout|idle|replay --url URL [--name value ...]; see Program.cs.");
    return 2;
}

var options = Arguments.Parse(args.AsSpan(1));
using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(options.Int("timeout-minutes", 10)));
return args[0] switch
{
    "latency" => await LatencyScenario.RunAsync(options, timeout.Token),
    "fanout" => await FanOutScenario.RunAsync(options, timeout.Token),
    "idle" => await IdleScenario.RunAsync(options, timeout.Token),
    "replay" => await ReplayScenario.RunAsync(options, timeout.Token),
    _ => throw new ArgumentException($"Unknown command '{args[0]}'; use latency, fanout, idle or replay."),
};
