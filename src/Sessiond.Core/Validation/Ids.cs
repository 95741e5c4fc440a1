using System.Buffers;
using Sessiond.Core.Errors;

namespace Sessiond.Core.Validation;

/// <summary>The one rule for every id (session, app, user, team, event): 1–128 characters of <c>[A-Za-z0-9._:@-]</c>.</summary>
public static class Ids
{
    public const int MaxLength = 128;

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-");

    public static bool IsValid(string? value) =>
        value is { Length: > 0 and <= MaxLength } && !value.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>Returns <paramref name="value"/> when valid; otherwise answers <c>invalid_request</c> naming the field.</summary>
    public static string Require(string? value, string field)
    {
        if (!IsValid(value))
        {
            SessionErrors.ThrowInvalid(
                $"'{field}' must be 1-{MaxLength} characters of letters, digits and . _ : @ -.");
        }

        return value!;
    }

    /// <summary>Like <see cref="Require"/>, but null stays null.</summary>
    public static string? Optional(string? value, string field) => value is null ? null : Require(value, field);
}
