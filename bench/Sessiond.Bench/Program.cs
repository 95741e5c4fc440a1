using BenchmarkDotNet.Running;
using Sessiond.Bench;

// Runs the benchmarks that --filter selects (all with --filter '*'); bench/Sessiond.Bench/run.sh is the usual way in.
BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args, new BenchConfig());
