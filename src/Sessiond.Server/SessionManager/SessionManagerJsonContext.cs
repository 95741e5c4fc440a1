using System.Text.Json.Serialization;
using Sessiond.Core.Json;

namespace Sessiond.Server.SessionManager;

/// <summary>
/// Source-generated JSON metadata for the signed session-manager API: snake_case as agentapi-proxy speaks it, nulls
/// omitted, RFC 3339 UTC timestamps. Used directly rather than through the host's resolver chain, which would impose
/// the host's camelCase.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(UtcTimestampConverter)])]
[JsonSerializable(typeof(SessionSettings))]
[JsonSerializable(typeof(CreatedSession))]
[JsonSerializable(typeof(SessionSummaryList))]
[JsonSerializable(typeof(SessionInfo))]
[JsonSerializable(typeof(SessionManagerError))]
public sealed partial class SessionManagerJsonContext : JsonSerializerContext;
