using Sessiond.Core.Ports;
using Sessiond.Storage.Sqlite.Writing;

namespace Sessiond.Storage.Sqlite.Turns;

/// <summary>Takes over a stale lease, a compare-and-set on its token, so that one repairer wins.</summary>
internal sealed class TakeOverLeaseOperation(string sessionId, long staleToken, LeaseClaim claim, CancellationToken cancellationToken)
    : WriteOperation<TurnLease?>(sessionId, cancellationToken)
{
    protected override TurnLease? Run(WriterStatements sql, AppendTargets targets)
    {
        var lease = LeaseRows.Select(sql.Connection, SessionId);
        if (lease is null || lease.Token != staleToken)
        {
            return null;
        }

        var stale = lease.Owner is null || lease.Owner == claim.Owner || lease.ExpiresAt <= claim.Now;
        if (!stale)
        {
            return null;
        }

        var taken = new TurnLease(SessionId, claim.Owner, staleToken + 1, claim.ExpiresAt);
        LeaseRows.Write(sql.Connection, taken);
        return taken;
    }
}
