using System.Text.Json;
using Sessiond.Core.Events;

namespace Sessiond.Core.State;

/// <summary>
/// State changes split by scope, with the prefixes removed and <c>temp:</c> keys dropped.
/// A value whose kind is <see cref="JsonValueKind.Null"/> deletes its key. Stores apply all three in the
/// transaction that commits the events carrying them.
/// </summary>
public sealed record StateChanges(
    IReadOnlyDictionary<string, JsonElement> App,
    IReadOnlyDictionary<string, JsonElement> User,
    IReadOnlyDictionary<string, JsonElement> Session)
{
    public static readonly StateChanges None = new(Empty, Empty, Empty);

    private static IReadOnlyDictionary<string, JsonElement> Empty => Sessions.Session.EmptyMap;

    public bool IsEmpty => App.Count == 0 && User.Count == 0 && Session.Count == 0;

    /// <summary>Folds the deltas in order (a later value for the same key wins) and splits them by scope.</summary>
    public static StateChanges FromDeltas(IEnumerable<IReadOnlyDictionary<string, JsonElement>?> deltas)
    {
        Dictionary<string, JsonElement>? app = null, user = null, session = null;
        foreach (var delta in deltas)
        {
            if (delta is null)
            {
                continue;
            }

            foreach (var (key, value) in delta)
            {
                if (key.StartsWith(StateKeys.AppPrefix, StringComparison.Ordinal))
                {
                    (app ??= [])[key[StateKeys.AppPrefix.Length..]] = value;
                }
                else if (key.StartsWith(StateKeys.UserPrefix, StringComparison.Ordinal))
                {
                    (user ??= [])[key[StateKeys.UserPrefix.Length..]] = value;
                }
                else if (!StateKeys.IsTemp(key))
                {
                    (session ??= [])[key] = value;
                }
            }
        }

        return app is null && user is null && session is null
            ? None
            : new StateChanges(app ?? Empty, user ?? Empty, session ?? Empty);
    }

    /// <summary>The changes carried by the state deltas of <paramref name="events"/>.</summary>
    public static StateChanges FromEvents(IEnumerable<SessionEvent> events) =>
        FromDeltas(events.Select(e => (IReadOnlyDictionary<string, JsonElement>?)e.Actions?.StateDelta));

    /// <summary>Applies one scope's changes to a stored map: sets values, and deletes keys whose value is null.</summary>
    public static Dictionary<string, JsonElement> Apply(
        IReadOnlyDictionary<string, JsonElement> stored, IReadOnlyDictionary<string, JsonElement> changes)
    {
        var result = new Dictionary<string, JsonElement>(stored, StringComparer.Ordinal);
        foreach (var (key, value) in changes)
        {
            if (value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = value;
            }
        }

        return result;
    }

    /// <summary>Merges the three stored scopes into the map a session read returns, restoring the prefixes.</summary>
    public static Dictionary<string, JsonElement> Merge(
        IReadOnlyDictionary<string, JsonElement> session,
        IReadOnlyDictionary<string, JsonElement> user,
        IReadOnlyDictionary<string, JsonElement> app)
    {
        var merged = new Dictionary<string, JsonElement>(session.Count + user.Count + app.Count, StringComparer.Ordinal);
        foreach (var (key, value) in session)
        {
            merged[key] = value;
        }

        foreach (var (key, value) in user)
        {
            merged[StateKeys.UserPrefix + key] = value;
        }

        foreach (var (key, value) in app)
        {
            merged[StateKeys.AppPrefix + key] = value;
        }

        return merged;
    }
}
