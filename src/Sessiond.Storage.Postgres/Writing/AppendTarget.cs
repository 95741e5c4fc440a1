using System.Text.Json;
using Sessiond.Core.Events;

namespace Sessiond.Storage.Postgres.Writing;

/// <summary>What an append (or a delete) reads of its session before it writes.</summary>
internal sealed record AppendTarget(
    string AppName, string UserId, long LastSeq, EventUsage Usage, Dictionary<string, JsonElement> State,
    string? TeamId, string Status, string? Title);
