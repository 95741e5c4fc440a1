using Npgsql;
using Sessiond.Core.Errors;

namespace Sessiond.Storage.Postgres;

/// <summary>
/// The one place that turns PostgreSQL errors into the Core's error vocabulary. Every write of the store passes its
/// <see cref="PostgresException"/> through <see cref="Translate"/>; what it does not know stays a server error.
/// </summary>
internal static class PostgresErrors
{
    /// <summary>The domain error for <paramref name="error"/>, or the error itself when it has no domain meaning.</summary>
    public static Exception Translate(PostgresException error, string? sessionId)
    {
        switch (error.SqlState)
        {
            case PostgresErrorCodes.UniqueViolation when error.ConstraintName == "sessions_pkey" && sessionId is not null:
                return SessionErrors.SessionExists(sessionId);
            case PostgresErrorCodes.UniqueViolation when error.ConstraintName == "events_pkey" && sessionId is not null:
                // Only reachable if a session's row lock were bypassed; the client may read and retry.
                return new SessiondException(ErrorKind.Conflict, ErrorCodes.SeqConflict,
                    "Another write took the same sequence numbers; read the session and retry.");
            default:
                return error;
        }
    }

    /// <summary>
    /// Deadlocks and serialization failures roll the whole transaction back and are worth one more try. The store's
    /// lock order (session row, user state, app state, then the feed lock) should make them rare.
    /// </summary>
    public static bool IsTransient(PostgresException error) =>
        error.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure;
}
