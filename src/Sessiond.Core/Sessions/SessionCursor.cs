using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;
using Sessiond.Core.Errors;

namespace Sessiond.Core.Sessions;

/// <summary>
/// A keyset position in the session list: the (updatedAt, id) of the last item of a page.
/// On the wire it is opaque base64url, so clients cannot depend on its shape.
/// </summary>
public sealed record SessionCursor(long UpdatedAtUnixMs, string Id)
{
    public string Encode()
    {
        var id = Encoding.UTF8.GetBytes(Id);
        var bytes = new byte[8 + id.Length];
        BinaryPrimitives.WriteInt64BigEndian(bytes, UpdatedAtUnixMs);
        id.CopyTo(bytes, 8);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>Parses a cursor from a client, answering <c>invalid_request</c> for anything this server did not issue.</summary>
    public static SessionCursor Decode(string value)
    {
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(value);
        }
        catch (FormatException)
        {
            throw SessionErrors.Invalid("The cursor is not valid.");
        }

        if (bytes.Length < 9)
        {
            throw SessionErrors.Invalid("The cursor is not valid.");
        }

        var id = Encoding.UTF8.GetString(bytes.AsSpan(8));
        if (!Validation.Ids.IsValid(id))
        {
            throw SessionErrors.Invalid("The cursor is not valid.");
        }

        return new SessionCursor(BinaryPrimitives.ReadInt64BigEndian(bytes), id);
    }
}
