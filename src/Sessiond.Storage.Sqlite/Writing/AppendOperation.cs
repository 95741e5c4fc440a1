using Sessiond.Core.Errors;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Core.State;
using Sessiond.Storage.Sqlite.Turns;

namespace Sessiond.Storage.Sqlite.Writing;

/// <summary>
/// Appends a batch of events: idempotency, then the expected-seq guard, then events, shared state and the key. The
/// session row and its feed notice are written once per commit by <see cref="AppendTargets.Flush"/>.
/// <paramref name="eventJson"/> holds the events' JSON without seqs, from <see cref="UnsequencedEvents"/>.
/// </summary>
internal sealed class AppendOperation(AppendBatch batch, byte[][] eventJson, CancellationToken cancellationToken)
    : WriteOperation<AppendResult>(batch.SessionId, cancellationToken)
{
    /// <summary>Every refusal comes before the first write, so an append needs no savepoint of its own.</summary>
    public override bool NeedsSavepoint => false;

    /// <summary>Gives this append the feed notice of its commit; only the last append of a session in a commit gets one.</summary>
    public void CarryNotice(FeedNotice notice) => Change = Change! with { Notice = notice };

    protected override AppendResult Run(WriterStatements sql, AppendTargets targets)
    {
        var target = targets.Find(sql, batch.SessionId) ?? throw SessionErrors.SessionNotFound(batch.SessionId);

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

        if (batch.FencingToken is { } fencing)
        {
            LeaseRows.RequireCurrent(sql.Connection, batch.SessionId, fencing);
        }

        if (batch.ExpectedLastSeq is { } expected && expected != target.LastSeq)
        {
            throw new SeqConflictException(expected, target.LastSeq);
        }

        // From here on nothing refuses the append (see NeedsSavepoint).
        var firstSeq = target.LastSeq + 1;
        var lastSeq = target.LastSeq + batch.Events.Count;
        var events = sql.InsertEvents(batch.SessionId, eventJson, firstSeq);
        sql.ApplySharedState(target.AppName, target.UserId, batch.State);
        if (batch.Idempotency is { } newToken)
        {
            sql.InsertIdempotency(
                batch.SessionId, newToken.Key, newToken.RequestHash, firstSeq, lastSeq, batch.Now.ToUnixTimeMilliseconds());
        }

        Change = new CommittedChange(batch.SessionId, events, Notice: null);
        targets.Appended(this, target with
        {
            LastSeq = lastSeq,
            Usage = target.Usage.Add(batch.Usage),
            State = batch.State.Session.Count == 0 ? target.State : StateChanges.Apply(target.State, batch.State.Session),
        }, batch.Now);
        return new AppendResult(events, lastSeq, Replayed: false);
    }
}
