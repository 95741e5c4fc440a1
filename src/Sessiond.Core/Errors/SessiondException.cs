namespace Sessiond.Core.Errors;

/// <summary>
/// A domain error with a stable <see cref="Code"/>. Every error a client sees is one of these;
/// the host turns them into problem+json (or a surface's own error body) in one place.
/// </summary>
public class SessiondException(ErrorKind kind, string code, string message) : Exception(message)
{
    /// <summary>The class of the error, which decides the HTTP status.</summary>
    public ErrorKind Kind { get; } = kind;

    /// <summary>The stable code, for example <c>session_not_found</c>.</summary>
    public string Code { get; } = code;

    /// <summary>Extra members to put in the problem document, such as the expected and actual sequence numbers.</summary>
    public virtual IReadOnlyDictionary<string, object?> Extensions => EmptyExtensions;

    private static readonly Dictionary<string, object?> EmptyExtensions = [];
}
