using System.Text.Json;
using System.Text.Json.Serialization;
using Sessiond.Core.Json;
using Sessiond.Server.Adk;
using Sessiond.Server.Native;
using Sessiond.Server.Operations;
using Sessiond.Server.Streams;
using Sessiond.Core.Sessions;

namespace Sessiond.Server.Http;

/// <summary>Source-generated JSON metadata for the wire types of every surface.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(UtcTimestampConverter), typeof(StoredEventJsonConverter)])]
[JsonSerializable(typeof(SessionListResponse))]
[JsonSerializable(typeof(AppendEventsResponse))]
[JsonSerializable(typeof(EventsResponse))]
[JsonSerializable(typeof(AppsResponse))]
[JsonSerializable(typeof(AppStateResponse))]
[JsonSerializable(typeof(UserStateResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(SnapshotResponse))]
[JsonSerializable(typeof(FeedNotice))]
[JsonSerializable(typeof(StatusFrameBody))]
[JsonSerializable(typeof(PartialEventsResponse))]
[JsonSerializable(typeof(AdkCreateSessionRequest))]
[JsonSerializable(typeof(AdkUpdateSessionRequest))]
[JsonSerializable(typeof(AdkError))]
[JsonSerializable(typeof(AdkRunRequest))]
[JsonSerializable(typeof(AdkVersion))]
[JsonSerializable(typeof(AdkAppList))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(Sessiond.Server.Runtime.TurnRequestBody))]
[JsonSerializable(typeof(Sessiond.Server.Runtime.InputBody))]
[JsonSerializable(typeof(Sessiond.Server.Runtime.ApprovalBody))]
[JsonSerializable(typeof(Sessiond.Server.Runtime.ElicitationBody))]
[JsonSerializable(typeof(Sessiond.Server.Runtime.TurnAccepted))]
[JsonSerializable(typeof(Sessiond.Server.Runtime.FollowupAccepted))]
[JsonSerializable(typeof(Sessiond.Server.Runtime.ApprovalAccepted))]
[JsonSerializable(typeof(Sessiond.Server.Runtime.AgentsResponse))]
[JsonSerializable(typeof(Sessiond.Server.Runtime.TurnEndFrame))]
[JsonSerializable(typeof(Sessiond.Runtime.Turns.SessionRunStatus))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
public sealed partial class ServerJsonContext : JsonSerializerContext;
