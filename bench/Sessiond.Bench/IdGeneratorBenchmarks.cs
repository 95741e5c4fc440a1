using BenchmarkDotNet.Attributes;
using Sessiond.Core.Validation;

namespace Sessiond.Bench;

/// <summary>A new event or session id: one per appended event that brings none.</summary>
[MemoryDiagnoser]
public class IdGeneratorBenchmarks
{
    [Benchmark]
    public string NewId() => IdGenerator.NewId("evt", TimeProvider.System);
}
