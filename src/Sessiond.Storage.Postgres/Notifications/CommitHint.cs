using System.Globalization;

namespace Sessiond.Storage.Postgres.Notifications;

/// <summary>
/// The thin NOTIFY payload of one commit: "session X advanced to seq N (with C new events), feed notice F", plus the
/// node and write that sent it, so the sender recognises its own echo. Nothing else travels: a receiver reads the
/// events and the notice from the tables. Text form: <c>node token lastSeq eventCount sessionId feedId</c>; ids never
/// hold spaces.
/// </summary>
internal sealed record CommitHint(string Node, long Token, long LastSeq, int EventCount, string SessionId, long FeedId)
{
    /// <summary>The payload up to the feed id, which the commit's own statement appends once the notice has its id.</summary>
    public static string Prefix(string node, long token, long lastSeq, int eventCount, string sessionId) =>
        string.Create(CultureInfo.InvariantCulture, $"{node} {token} {lastSeq} {eventCount} {sessionId} ");

    /// <summary>The first seq of the commit's events; above <see cref="LastSeq"/> when it stored none.</summary>
    public long FirstSeq => LastSeq - EventCount + 1;

    /// <summary>Parses a payload; null for anything this build did not send.</summary>
    public static CommitHint? Parse(string payload)
    {
        var parts = payload.Split(' ');
        return parts.Length == 6
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var token)
            && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var lastSeq)
            && int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            && long.TryParse(parts[5], NumberStyles.None, CultureInfo.InvariantCulture, out var feedId)
            ? new CommitHint(parts[0], token, lastSeq, count, parts[4], feedId)
            : null;
    }
}
