namespace Sessiond.Core.State;

/// <summary>State key prefixes and the scope each selects.</summary>
public static class StateKeys
{
    /// <summary>Shared by every session of the app.</summary>
    public const string AppPrefix = "app:";

    /// <summary>Shared by one user's sessions in the app.</summary>
    public const string UserPrefix = "user:";

    /// <summary>Lives for one turn only; never stored.</summary>
    public const string TempPrefix = "temp:";

    public static bool IsTemp(string key) => key.StartsWith(TempPrefix, StringComparison.Ordinal);
}
