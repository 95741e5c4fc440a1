using System.Data.Common;
using System.Text.Json;

namespace Sessiond.Storage.Postgres.Reading;

/// <summary>Parses each user's and app's state once while reading many sessions in one query.</summary>
internal sealed class SharedStateCache
{
    private readonly Dictionary<(string App, string User), Dictionary<string, JsonElement>> _users = [];
    private readonly Dictionary<string, Dictionary<string, JsonElement>> _apps = new(StringComparer.Ordinal);

    public Dictionary<string, JsonElement> User(string appName, string userId, DbDataReader row, int ordinal)
    {
        if (!_users.TryGetValue((appName, userId), out var state))
        {
            state = SessionRows.ReadMap(row, ordinal);
            _users[(appName, userId)] = state;
        }

        return state;
    }

    public Dictionary<string, JsonElement> App(string appName, DbDataReader row, int ordinal)
    {
        if (!_apps.TryGetValue(appName, out var state))
        {
            state = SessionRows.ReadMap(row, ordinal);
            _apps[appName] = state;
        }

        return state;
    }
}
