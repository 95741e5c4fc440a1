using System.Diagnostics.CodeAnalysis;

namespace Sessiond.Core.Errors;

/// <summary>Factory and throw helpers for every domain error, so messages and codes stay in one place.</summary>
public static class SessionErrors
{
    public static SessiondException Invalid(string message) =>
        new(ErrorKind.Invalid, ErrorCodes.InvalidRequest, message);

    public static SessiondException TooLarge(string message) =>
        new(ErrorKind.TooLarge, ErrorCodes.PayloadTooLarge, message);

    /// <summary>Also used for sessions the caller may not see, so existence never leaks.</summary>
    public static SessiondException SessionNotFound(string sessionId) =>
        new(ErrorKind.NotFound, ErrorCodes.SessionNotFound, $"Session '{Printable(sessionId)}' was not found.");

    public static SessiondException SessionExists(string sessionId) =>
        new(ErrorKind.Conflict, ErrorCodes.SessionExists, $"Session already exists: {Printable(sessionId)}");

    public static SessiondException IdempotencyKeyReused() =>
        new(ErrorKind.Unprocessable, ErrorCodes.IdempotencyKeyReused,
            "This Idempotency-Key was already used for a different request on this session.");

    public static SessiondException SessionBusy(string sessionId, string status) =>
        new(ErrorKind.Conflict, ErrorCodes.SessionBusy, $"Session '{Printable(sessionId)}' is {status}; one turn runs at a time.");

    public static SessiondException NotRunning(string sessionId) =>
        new(ErrorKind.Conflict, ErrorCodes.NotRunning, $"No turn is running on session '{Printable(sessionId)}'.");

    /// <summary>A write of a turn whose lease another node has taken over (or that ended); nothing was written.</summary>
    public static SessiondException LeaseLost(string sessionId, long token) =>
        new(ErrorKind.Conflict, ErrorCodes.LeaseLost,
            $"The turn lease {token} of session '{Printable(sessionId)}' is no longer current; another node took the session over.");

    public static SessiondException QueueFull(string what, int capacity) =>
        new(ErrorKind.TooMany, ErrorCodes.QueueFull, $"The {what} queue is full ({capacity}); retry after the turn takes some.");

    [DoesNotReturn]
    public static void ThrowInvalid(string message) => throw Invalid(message);

    [DoesNotReturn]
    public static void ThrowTooLarge(string message) => throw TooLarge(message);

    /// <summary>Shortens and strips control characters so a hostile id cannot forge log lines or bloat errors.</summary>
    public static string Printable(string value)
    {
        var span = value.AsSpan(0, Math.Min(value.Length, 128));
        return string.Create(span.Length, value, static (dest, src) =>
        {
            for (var i = 0; i < dest.Length; i++)
            {
                dest[i] = char.IsControl(src[i]) ? '?' : src[i];
            }
        });
    }
}
