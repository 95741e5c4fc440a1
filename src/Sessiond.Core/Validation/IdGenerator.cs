using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Sessiond.Core.Validation;

/// <summary>
/// Time-ordered ids in ULID form (48-bit milliseconds + 80 random bits, Crockford base32) behind a short type prefix,
/// such as <c>evt_01JD...</c>. Written here because no ULID package is available to this project.
/// </summary>
public static class IdGenerator
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static string NewId(string prefix, TimeProvider time)
    {
        Span<byte> random = stackalloc byte[10];
        RandomNumberGenerator.Fill(random);
        var ms = (ulong)time.GetUtcNow().ToUnixTimeMilliseconds() & 0xFFFF_FFFF_FFFF;
        var value = ((UInt128)ms << 80)
            | ((UInt128)BinaryPrimitives.ReadUInt16BigEndian(random) << 64)
            | BinaryPrimitives.ReadUInt64BigEndian(random[2..]);

        Span<char> id = stackalloc char[prefix.Length + 27];
        prefix.AsSpan().CopyTo(id);
        id[prefix.Length] = '_';
        for (var i = id.Length - 1; i > prefix.Length; i--)
        {
            id[i] = Alphabet[(int)(value & 31)];
            value >>= 5;
        }

        return new string(id);
    }
}
