using Sessiond.Core.Sessions;

namespace Sessiond.Storage.Postgres.Writing;

/// <summary>Builds feed notices from sessions.</summary>
internal static class FeedNotices
{
    public static FeedNotice Of(Session session, string kind) => new()
    {
        Kind = kind,
        SessionId = session.Id,
        AppName = session.AppName,
        UserId = session.UserId,
        TeamId = session.TeamId,
        LastSeq = session.LastSeq,
        Status = session.Status,
        Title = session.Title,
        At = session.UpdatedAt,
    };

    public static FeedNotice Of(AppendTarget target, string sessionId, string kind, long lastSeq, DateTimeOffset at) => new()
    {
        Kind = kind,
        SessionId = sessionId,
        AppName = target.AppName,
        UserId = target.UserId,
        TeamId = target.TeamId,
        LastSeq = lastSeq,
        Status = target.Status,
        Title = target.Title,
        At = at,
    };
}
