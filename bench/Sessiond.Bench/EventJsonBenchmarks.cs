using BenchmarkDotNet.Attributes;
using Sessiond.Core.Events;
using Sessiond.Core.Json;

namespace Sessiond.Bench;

/// <summary>One event through <see cref="SessiondJson"/>: every append serialises each event, every typed read parses one.</summary>
[MemoryDiagnoser]
public class EventJsonBenchmarks
{
    private readonly SessionEvent _event = SampleEvents.ModelStep();
    private readonly byte[] _json = System.Text.Encoding.UTF8.GetBytes(SampleEvents.ModelStepJson);

    [Benchmark]
    public byte[] SerializeEvent() => SessiondJson.SerializeEvent(_event);

    [Benchmark]
    public SessionEvent DeserializeEvent() => SessiondJson.DeserializeEvent(_json);
}
