using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Sessiond.Core.State;

namespace Sessiond.Bench;

/// <summary>Folding a turn's state deltas by scope, as every append that carries state does.</summary>
[MemoryDiagnoser]
public class StateChangesBenchmarks
{
    private readonly IReadOnlyDictionary<string, JsonElement>?[] _turn =
    [
        Delta("""{"topic":"orders","temp:draft":"...","user:locale":"en-GB"}"""),
        null,
        Delta("""{"last_order":"A-1043","app:catalog_version":7,"topic":null}"""),
    ];

    [Benchmark]
    public StateChanges FromDeltas() => StateChanges.FromDeltas(_turn);

    private static Dictionary<string, JsonElement> Delta(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
    }
}
