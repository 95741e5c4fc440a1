using Sessiond.Core.Errors;
using Sessiond.Storage.Sqlite.Writing;

namespace Sessiond.Storage.Sqlite.Turns;

/// <summary>Extends a turn lease while its token is current.</summary>
internal sealed class RenewLeaseOperation(string sessionId, long token, DateTimeOffset until, CancellationToken cancellationToken)
    : WriteOperation<bool>(sessionId, cancellationToken)
{
    protected override bool Run(WriterStatements sql, AppendTargets targets)
    {
        var lease = LeaseRows.Select(sql.Connection, SessionId) ?? throw SessionErrors.SessionNotFound(SessionId);
        if (lease.Owner is null || lease.Token != token)
        {
            throw SessionErrors.LeaseLost(SessionId, token);
        }

        LeaseRows.Write(sql.Connection, lease with { ExpiresAt = until });
        return true;
    }
}
