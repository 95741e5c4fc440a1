namespace Sessiond.Runtime.Models;

/// <summary>A model call that failed. The turn ends with an error event carrying <see cref="Code"/>.</summary>
public sealed class ModelException(string code, string message, Exception? inner = null) : Exception(message, inner)
{
    public const string Timeout = "model_timeout";
    public const string RateLimited = "model_rate_limited";
    public const string Unavailable = "model_unavailable";
    public const string Unauthorized = "model_unauthorized";
    public const string Failed = "model_error";

    /// <summary>A stable code such as <see cref="Timeout"/> or <see cref="RateLimited"/>.</summary>
    public string Code { get; } = code;
}
