using Microsoft.AspNetCore.Authentication;
using Sessiond.Core.Validation;

namespace Sessiond.Server.Auth;

/// <summary>Registers the <c>hmac</c> scheme of HMAC-signed requests, when at least one secret is configured.</summary>
public static class HmacAuthenticationExtensions
{
    private const string Section = "Sessiond:Auth:Hmac";

    /// <summary>
    /// Adds the <see cref="HmacAuthenticationHandler.SchemeName"/> scheme with its <see cref="HmacSignature"/> and
    /// <see cref="HmacReplayCache"/>. With no options or no secret it registers nothing, and the signed session-manager
    /// API then does not exist. Refuses, at start, options that cannot work, saying how to fix them (never printing a secret).
    /// </summary>
    public static AuthenticationBuilder AddHmacAuthentication(this AuthenticationBuilder builder, HmacOptions? options)
    {
        if (options is not { Secrets.Count: > 0 })
        {
            return builder;
        }

        Validate(options);
        builder.Services.AddSingleton(sp => new HmacSignature(options, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => new HmacReplayCache(sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddAuthorization();
        builder.AddScheme<AuthenticationSchemeOptions, HmacAuthenticationHandler>(HmacAuthenticationHandler.SchemeName, displayName: null, _ => { });
        return builder;
    }

    private static void Validate(HmacOptions options)
    {
        if (options.MaxSkewSeconds is < 1 or > 86_400)
        {
            throw new InvalidOperationException(
                $"{Section}:MaxSkewSeconds is {options.MaxSkewSeconds}; set it to 1-86400 seconds (the default, 300, allows ±5 minutes).");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Secrets.Count; i++)
        {
            var secret = options.Secrets[i];
            if (!Ids.IsValid(secret.Id))
            {
                throw new InvalidOperationException(
                    $"{Section}:Secrets:{i}:Id must be 1-{Ids.MaxLength} characters of letters, digits and . _ : @ -; "
                    + "give every secret a non-secret id (it names the caller as hmac:<id> in logs).");
            }

            if (!ids.Add(secret.Id))
            {
                throw new InvalidOperationException(
                    $"{Section}:Secrets:{i}:Id '{secret.Id}' is used by an earlier secret; give each secret its own id.");
            }

            if (string.IsNullOrEmpty(secret.Secret))
            {
                throw new InvalidOperationException(
                    $"{Section}:Secrets:{i}:Secret (id '{secret.Id}') is empty; set the shared secret, or remove the entry.");
            }
        }
    }
}
