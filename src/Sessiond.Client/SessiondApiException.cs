using System.Net;
using System.Text.Json;

namespace Sessiond.Client;

/// <summary>A non-success answer from a Sessiond server, with the problem document's stable <see cref="Code"/>.</summary>
public sealed class SessiondApiException(HttpStatusCode status, string code, string message, JsonElement? problem)
    : Exception(message)
{
    public HttpStatusCode Status { get; } = status;

    /// <summary>The problem's <c>code</c>, such as <c>session_not_found</c> or <c>seq_conflict</c>.</summary>
    public string Code { get; } = code;

    /// <summary>The whole problem document, for extension members such as <c>actualLastSeq</c>.</summary>
    public JsonElement? Problem { get; } = problem;
}
