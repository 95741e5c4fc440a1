using Sessiond.Core.Errors;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Core.State;

namespace Sessiond.Storage.Sqlite.Writing;

/// <summary>Appends a batch of events: idempotency, then the expected-seq guard, then events, state, usage and the key.</summary>
internal sealed class AppendOperation(AppendBatch batch, CancellationToken cancellationToken)
    : WriteOperation<AppendResult>(cancellationToken)
{
    protected override AppendResult Run(WriterStatements sql)
    {
        var target = sql.SelectSessionForAppend(batch.SessionId) ?? throw SessionErrors.SessionNotFound(batch.SessionId);

        // A retry of a request already committed answers with its first result, whatever the session did since;
        // so the key is checked before the expected seq, which a retry would otherwise fail.
        if (batch.Idempotency is { } token && sql.SelectIdempotency(batch.SessionId, token.Key) is { } seen)
        {
            if (!string.Equals(seen.RequestHash, token.RequestHash, StringComparison.Ordinal))
            {
                throw SessionErrors.IdempotencyKeyReused();
            }

            return new AppendResult(sql.SelectEventRange(batch.SessionId, seen.FirstSeq, seen.LastSeq), seen.LastSeq, Replayed: true);
        }

        if (batch.ExpectedLastSeq is { } expected && expected != target.LastSeq)
        {
            throw new SeqConflictException(expected, target.LastSeq);
        }

        var firstSeq = target.LastSeq + 1;
        var lastSeq = target.LastSeq + batch.Events.Count;
        var now = batch.Now.ToUnixTimeMilliseconds();
        var events = sql.InsertEvents(batch.SessionId, batch.Events, firstSeq);
        var sessionState = batch.State.Session.Count == 0 ? target.State : StateChanges.Apply(target.State, batch.State.Session);
        sql.UpdateAfterAppend(batch.SessionId, lastSeq, now, target.Usage.Add(batch.Usage), sessionState);
        sql.ApplySharedState(target.AppName, target.UserId, batch.State);
        if (batch.Idempotency is { } newToken)
        {
            sql.InsertIdempotency(batch.SessionId, newToken.Key, newToken.RequestHash, firstSeq, lastSeq, now);
        }

        Change = new CommittedChange(
            sql.InsertFeed(FeedNotices.Of(target, batch.SessionId, FeedNoticeKind.Updated, lastSeq, batch.Now)),
            events);
        return new AppendResult(events, lastSeq, Replayed: false);
    }
}
