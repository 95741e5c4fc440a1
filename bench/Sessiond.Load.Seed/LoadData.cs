namespace Sessiond.Load.Seed;

/// <summary>
/// The apps, users and session ids the seed tool creates. The wrk scripts under <c>bench/load/</c> and
/// <c>bench/load/run.sh</c> address the same names, so a change here must be made there too.
/// </summary>
internal static class LoadData
{
    public const string App = "bench";

    /// <summary>(c): the owner of the sessions <c>append-0000</c> to <c>append-0999</c>, appended to by <c>append.lua</c>.</summary>
    public const string AppendUser = "appender";

    /// <summary>(d): the one session every connection of the hot-session run appends to.</summary>
    public const string HotSessionId = "hot-0000";

    public const string HotUser = "hot";

    /// <summary>(e): the session holding the large history.</summary>
    public const string BigSessionId = "big-0000";

    public const string BigUser = "reader";

    /// <summary>(f): the user whose first list page is read.</summary>
    public const string ListUser = "lister";

    /// <summary>
    /// One typical model event as a client appends it (about 300 bytes of JSON); the server adds its id, seq and
    /// timestamp. <c>bench/load/append.lua</c> sends the same shape.
    /// </summary>
    public const string SampleEventJson =
        """{"author":"assistant","invocationId":"inv-bench","content":{"role":"model","parts":[{"text":"The session keeps every event in order, so a client that reconnects reads what it missed and then follows the live stream without gaps."}]},"usage":{"inputTokens":812,"outputTokens":64,"cost":0.0012}}""";

    public static string AppendSessionId(int index) => $"append-{index:D4}";
}
