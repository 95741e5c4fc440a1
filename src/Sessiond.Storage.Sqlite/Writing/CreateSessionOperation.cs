using Sessiond.Core.Errors;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Core.State;

namespace Sessiond.Storage.Sqlite.Writing;

/// <summary>
/// Creates a session with its initial state and events (<paramref name="eventJson"/>: their JSON without seqs, from
/// <see cref="UnsequencedEvents"/>); <c>session_exists</c> for a taken id.
/// </summary>
internal sealed class CreateSessionOperation(NewSession session, byte[][] eventJson, CancellationToken cancellationToken)
    : WriteOperation<Session>(session.Id, cancellationToken)
{
    protected override Session Run(WriterStatements sql, AppendTargets targets)
    {
        var now = session.Now.ToUnixTimeMilliseconds();
        var lastSeq = (long)session.Events.Count;
        var sessionState = StateChanges.Apply(StateChanges.None.Session, session.State.Session);
        // An empty title means none, as it does for an update.
        var title = string.IsNullOrEmpty(session.Title) ? null : session.Title;
        if (!sql.InsertSession(
                session.Id, session.AppName, session.UserId, session.TeamId, session.Scope, title, now, lastSeq,
                session.Metadata, session.Usage, sessionState))
        {
            throw SessionErrors.SessionExists(session.Id);
        }

        sql.InsertApp(session.AppName);
        var events = sql.InsertEvents(session.Id, eventJson, firstSeq: 1);
        sql.ApplySharedState(session.AppName, session.UserId, session.State);

        var timestamp = DateTimeOffset.FromUnixTimeMilliseconds(now);
        var created = new Session
        {
            Id = session.Id,
            AppName = session.AppName,
            UserId = session.UserId,
            TeamId = session.TeamId,
            Scope = session.Scope,
            Title = title,
            Status = SessionStatus.Idle,
            CreatedAt = timestamp,
            UpdatedAt = timestamp,
            LastSeq = lastSeq,
            Metadata = session.Metadata,
            Usage = session.Usage,
            State = StateChanges.Merge(
                sessionState, sql.SelectUserState(session.AppName, session.UserId), sql.SelectAppState(session.AppName)),
        };
        Change = new CommittedChange(session.Id, events, sql.InsertFeed(FeedNotices.Of(created, FeedNoticeKind.Created)));
        return created;
    }
}
