using System.Text.Json;
using System.Text.Json.Serialization;
using Sessiond.Core.Events;
using Sessiond.Core.Json;
using Sessiond.Core.Sessions;

namespace Sessiond.Client;

/// <summary>Source-generated JSON metadata for the client's wire types.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(UtcTimestampConverter)])]
[JsonSerializable(typeof(SessionList))]
[JsonSerializable(typeof(AppendedEvents))]
[JsonSerializable(typeof(EventList))]
[JsonSerializable(typeof(Session))]
[JsonSerializable(typeof(List<SessionEvent>))]
[JsonSerializable(typeof(CreateSessionCommand))]
[JsonSerializable(typeof(UpdateSessionCommand))]
[JsonSerializable(typeof(AppendEventsCommand))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
