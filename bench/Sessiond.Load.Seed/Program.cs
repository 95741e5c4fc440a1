using Sessiond.Load.Seed;

// Seeds and checks the data of the HTTP load harness; bench/load/run.sh drives it. Commands:
//   http  --url http://127.0.0.1:PORT [--workers 32] [--append-sessions 1000] [--big-events 10000] [--batch 500] [--list-sessions 100000]
//   tally --url http://127.0.0.1:PORT [--append-sessions 1000]
//   store --data-dir DIR [--sessions 1000000] [--users 10000] [--in-flight 4096]
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Sessiond.Load.Seed http|tally|store --name value ...; see Program.cs.");
    return 2;
}

var options = CommandLine.Parse(args.AsSpan(1));
using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(options.Int("timeout-minutes", 10)));
return args[0] switch
{
    "http" => await HttpSeeder.RunAsync(options, timeout.Token),
    "tally" => await AppendTally.RunAsync(options, timeout.Token),
    "store" => await StoreSeeder.RunAsync(options, timeout.Token),
    _ => throw new ArgumentException($"Unknown command '{args[0]}'; use http, tally or store."),
};
