using Sessiond.Core.Sessions;

namespace Sessiond.Storage.Sqlite.Writing;

/// <summary>
/// The writer's view of the sessions it appends to, so an append neither reads its session row nor rewrites it.
/// <list type="bullet">
/// <item>Targets are read once and then kept. The writer is the only connection that changes sessions (the file belongs
/// to one process), so what it keeps stays true; every write that changes a session some other way forgets it.</item>
/// <item>Appends change the kept target only. <see cref="Flush"/> writes each changed session row once, with one
/// <c>updated</c> feed notice carrying the latest state, before anything else reads the rows and before COMMIT: with
/// many appends to a session in one commit, its row, its list-index entries and its feed get one write instead of many.</item>
/// <item>A transaction that fails leaves targets that never committed, so <see cref="Reset"/> forgets them all.</item>
/// </list>
/// Only the writer thread touches this.
/// </summary>
internal sealed class AppendTargets(int capacity)
{
    private readonly Dictionary<string, AppendTarget> _targets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Pending> _unflushed = new(StringComparer.Ordinal);
    private long _appends;

    /// <summary>The session as this transaction sees it, or null when it does not exist.</summary>
    public AppendTarget? Find(WriterStatements sql, string sessionId)
    {
        if (_targets.TryGetValue(sessionId, out var target))
        {
            return target;
        }

        target = sql.SelectSessionForAppend(sessionId);
        if (target is not null)
        {
            _targets[sessionId] = target;
        }

        return target;
    }

    /// <summary>Records an append's effect on its session, to be written by <see cref="Flush"/>.</summary>
    public void Appended(AppendOperation append, AppendTarget target, DateTimeOffset at)
    {
        _targets[append.SessionId] = target;
        _unflushed[append.SessionId] = new Pending(append, target, at, ++_appends);
    }

    /// <summary>
    /// Writes every changed session row and its feed notice, in the order of each session's last append, and hands the
    /// notice to that append. The feed ids so follow the order in which the commit listener hears of the appends.
    /// </summary>
    public void Flush(WriterStatements sql)
    {
        if (_unflushed.Count == 0)
        {
            return;
        }

        var pending = _unflushed.Values.ToArray();
        _unflushed.Clear();
        Array.Sort(pending, static (x, y) => x.Order.CompareTo(y.Order));
        foreach (var (append, target, at, _) in pending)
        {
            sql.UpdateAfterAppend(append.SessionId, target.LastSeq, at.ToUnixTimeMilliseconds(), target.Usage, target.State);
            append.CarryNotice(sql.InsertFeed(
                FeedNotices.Of(target, append.SessionId, FeedNoticeKind.Updated, target.LastSeq, at)));
        }
    }

    /// <summary>Drops what is kept of a session that another kind of write changed or deleted.</summary>
    public void Forget(string sessionId) => _targets.Remove(sessionId);

    /// <summary>After COMMIT: everything kept is durable. Bounds memory by starting over when too many sessions are kept.</summary>
    public void Committed()
    {
        if (_targets.Count > capacity)
        {
            _targets.Clear();
        }
    }

    /// <summary>After a failed transaction: nothing kept can be trusted.</summary>
    public void Reset()
    {
        _targets.Clear();
        _unflushed.Clear();
    }

    private readonly record struct Pending(AppendOperation Append, AppendTarget Target, DateTimeOffset At, long Order);
}
