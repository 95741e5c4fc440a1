using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Sessiond.Server.Auth;

/// <summary>
/// The <c>hmac</c> authentication scheme: verifies an HMAC-signed request (<see cref="HmacSignature"/>), refuses a
/// signature already accepted inside the window (<see cref="HmacReplayCache"/>), and produces a <c>service</c>
/// principal acting for <c>X-Forwarded-User</c> and <c>X-Forwarded-Team</c>. A request without a signature header is
/// not this scheme's (no result), so other schemes may take it. A challenge answers with the failure in
/// <c>{"message": ...}</c>; since it writes the body, the scheme belongs alone in a policy (or last among several).
/// </summary>
public sealed partial class HmacAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    HmacSignature signature,
    HmacReplayCache replays)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name, which <see cref="AuthenticationSetup"/> forwards signed requests to.</summary>
    public const string SchemeName = AuthenticationSetup.HmacScheme;

    private const string ForwardedUserHeader = "X-Forwarded-User";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var headers = Request.Headers;
        if (StringValues.IsNullOrEmpty(headers[HmacSignature.SignatureHeader]))
        {
            return AuthenticateResult.NoResult();
        }

        HmacVerification verification;
        Request.EnableBuffering();
        try
        {
            verification = await signature.VerifyAsync(
                headers[HmacSignature.SignatureHeader], headers[HmacSignature.TimestampHeader], Request.Method, SignedTarget(),
                Request.Body, Context.RequestAborted);
        }
        catch (BadHttpRequestException ex)
        {
            // Too large, or a broken chunked body: answered on this surface's shape rather than as a 401.
            return Refuse(ex.StatusCode, ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? "request body too large"
                : "unreadable request body");
        }
        finally
        {
            // The endpoint reads the body again.
            Request.Body.Position = 0;
        }

        if (!verification.Succeeded)
        {
            return Refuse(StatusCodes.Status401Unauthorized, verification.Failure!);
        }

        // Expires when the timestamp leaves the window; the timestamp check refuses the request from then on.
        if (!replays.TryAccept(verification.Digest!, verification.Timestamp + signature.MaxSkewSeconds))
        {
            return Refuse(StatusCodes.Status401Unauthorized, HmacVerification.Replayed);
        }

        // Repeated header lines reach the server joined by commas (list syntax), and no user id holds a comma.
        var user = headers[ForwardedUserHeader];
        if (user.Count > 1 || user.ToString().Contains(','))
        {
            return Refuse(StatusCodes.Status400BadRequest, "X-Forwarded-User must name one user");
        }

        LogVerified(Logger, verification.SecretId!);
        return AuthenticateResult.Success(new AuthenticationTicket(Principal(verification.SecretId!), Scheme.Name));
    }

    /// <summary>Answers the failure (or the missing signature) as <c>{"message": ...}</c>.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Response.HasStarted)
        {
            return;
        }

        var result = await HandleAuthenticateOnceSafeAsync();
        var (status, message) = result.Failure switch
        {
            Refusal refusal => (refusal.StatusCode, refusal.Message),
            null when result.None => (StatusCodes.Status401Unauthorized, HmacVerification.MissingSignature),
            _ => (StatusCodes.Status401Unauthorized, "unauthorized"),
        };
        Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized)
        {
            Response.Headers.WWWAuthenticate = "HMAC-SHA256";
        }

        Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteString("message", message);
        writer.WriteEndObject();
        await writer.FlushAsync(Context.RequestAborted);
    }

    /// <summary>
    /// The request-target the client signed: path and query exactly as sent (not decoded, not normalised), which Kestrel
    /// keeps as <see cref="IHttpRequestFeature.RawTarget"/>, path base included. For any other form of target (absolute-form
    /// through a forward proxy, or a server without the raw target) it is rebuilt from the escaped path and query.
    /// </summary>
    private string SignedTarget() =>
        Context.Features.Get<IHttpRequestFeature>()?.RawTarget is ['/', ..] raw
            ? raw
            : Request.PathBase.ToUriComponent() + Request.Path.ToUriComponent() + Request.QueryString.ToUriComponent();

    private AuthenticateResult Refuse(int status, string message)
    {
        LogRefused(Logger, message);
        return AuthenticateResult.Fail(new Refusal(status, message));
    }

    private ClaimsPrincipal Principal(string secretId)
    {
        var identity = new ClaimsIdentity(Scheme.Name, SessiondClaims.Name, SessiondClaims.Role);
        identity.AddClaim(new Claim(SessiondClaims.Name, "hmac:" + secretId));
        identity.AddClaim(new Claim(SessiondClaims.Role, SessiondClaims.RoleService));
        identity.AddClaims(ForwardedIdentity.Claims(Request));
        return new ClaimsPrincipal(identity);
    }

    /// <summary>A refusal and the status it answers with; its message is one of the fixed client-facing texts.</summary>
    private sealed class Refusal(int statusCode, string message) : Exception(message)
    {
        public int StatusCode { get; } = statusCode;
    }

    // Per request, so Debug; never the signature or a secret, only the fixed reason or the secret's id.
    [LoggerMessage(EventId = 3100, Level = LogLevel.Debug, Message = "HMAC-signed request refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Debug, Message = "HMAC-signed request verified under secret {SecretId}")]
    private static partial void LogVerified(ILogger logger, string secretId);
}
