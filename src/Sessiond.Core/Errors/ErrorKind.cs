namespace Sessiond.Core.Errors;

/// <summary>The class of a domain error. The host maps each kind to one HTTP status, in one place.</summary>
public enum ErrorKind
{
    /// <summary>The request is malformed or breaks a rule (400).</summary>
    Invalid,
    /// <summary>The request body or a part of it is over a configured limit (413).</summary>
    TooLarge,
    /// <summary>The addressed resource does not exist, or the caller may not know that it does (404).</summary>
    NotFound,
    /// <summary>The request conflicts with the current state (409).</summary>
    Conflict,
    /// <summary>The same idempotency key was used for a different request (422).</summary>
    Unprocessable,
    /// <summary>The caller has no valid credentials (401).</summary>
    Unauthorized,
    /// <summary>The caller is known but may not do this (403).</summary>
    Forbidden,
    /// <summary>A bounded queue is full; the caller may retry later (429).</summary>
    TooMany,
}
