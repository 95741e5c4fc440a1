namespace Sessiond.Core.Errors;

/// <summary>The stable machine-readable codes every surface reports in problem+json <c>code</c>.</summary>
public static class ErrorCodes
{
    public const string InvalidRequest = "invalid_request";
    public const string PayloadTooLarge = "payload_too_large";
    public const string SessionNotFound = "session_not_found";
    public const string SessionExists = "session_exists";
    public const string SeqConflict = "seq_conflict";
    public const string IdempotencyKeyReused = "idempotency_key_reused";
    public const string NotFound = "not_found";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string SessionBusy = "session_busy";
    public const string NotRunning = "not_running";
    public const string QueueFull = "queue_full";
    public const string UnknownAgent = "unknown_agent";
    public const string UnknownModel = "unknown_model";
    public const string ApprovalNotFound = "approval_not_found";
    public const string ElicitationNotFound = "elicitation_not_found";
    public const string LeaseLost = "lease_lost";
}
