using System.Text.Json;
using System.Text.Json.Serialization;
using Sessiond.Core.Events;
using Sessiond.Core.Sessions;

namespace Sessiond.Core.Json;

/// <summary>Source-generated JSON metadata for the domain types: camelCase, nulls omitted, UTC timestamps.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(UtcTimestampConverter)])]
[JsonSerializable(typeof(SessionEvent))]
[JsonSerializable(typeof(List<SessionEvent>))]
[JsonSerializable(typeof(List<EventPart>))]
[JsonSerializable(typeof(Session))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, JsonElement>))]
[JsonSerializable(typeof(SessionPermissions))]
[JsonSerializable(typeof(EventUsage))]
[JsonSerializable(typeof(CreateSessionCommand))]
[JsonSerializable(typeof(UpdateSessionCommand))]
[JsonSerializable(typeof(AppendEventsCommand))]
public sealed partial class SessiondJsonContext : JsonSerializerContext;
