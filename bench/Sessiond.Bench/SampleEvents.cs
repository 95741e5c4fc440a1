using Sessiond.Core.Events;
using Sessiond.Core.Json;

namespace Sessiond.Bench;

/// <summary>The events the benchmarks serialise and append, shaped like what agents write.</summary>
internal static class SampleEvents
{
    /// <summary>
    /// A model step as stored: text, a tool call, a state delta in two scopes and usage; about 700 bytes of JSON.
    /// </summary>
    public const string ModelStepJson =
        """
        {"seq":42,"id":"evt_01JD2Q9ZK3M4N5P6Q7R8S9T0VW","invocationId":"inv_01JD2Q9Y2B3C4D5E6F7G8H9J0K","author":"planner",
         "timestamp":"2026-11-21T10:00:00.123Z",
         "content":{"role":"model","parts":[
           {"text":"I will look the order up first, then summarise its status and the next delivery window for you."},
           {"functionCall":{"id":"call_7","name":"lookup_order","args":{"orderId":"A-1043","includeHistory":true}}}]},
         "actions":{"stateDelta":{"last_order":"A-1043","user:locale":"en-GB","temp:scratch":null}},
         "turnComplete":false,
         "usage":{"inputTokens":1532,"outputTokens":87,"cost":0.00241},
         "metadata":{"model":"gpt-4.1-mini","latencyMs":812}}
        """;

    /// <summary>The typed form of <see cref="ModelStepJson"/>.</summary>
    public static SessionEvent ModelStep() => SessiondJson.DeserializeEvent(System.Text.Encoding.UTF8.GetBytes(ModelStepJson));

    /// <summary>The event the HTTP harness appends (bench/load/append.lua), prepared as the domain hands it to a store.</summary>
    public static SessionEvent Appended() => new()
    {
        Id = "evt_01JD2Q9ZK3M4N5P6Q7R8S9T0VW",
        InvocationId = "inv-bench",
        Author = "assistant",
        Timestamp = DateTimeOffset.UtcNow,
        Content = new EventContent
        {
            Role = "model",
            Parts =
            [
                new EventPart
                {
                    Text = "The session keeps every event in order, so a client that reconnects reads what it missed and then follows the live stream without gaps.",
                },
            ],
        },
        Usage = new EventUsage(812, 64, 0.0012m),
    };
}
