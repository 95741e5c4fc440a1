using Npgsql;
using NpgsqlTypes;

namespace Sessiond.Storage.Postgres.Writing;

/// <summary>Small builders for positional (<c>$1</c>, <c>$2</c>, ...) statements; null binds SQL NULL.</summary>
internal static class Sql
{
    public static NpgsqlBatchCommand Command(string text, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(text);
        foreach (var value in values)
        {
            command.Parameters.Add(value is NpgsqlParameter parameter ? parameter : new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }

    public static NpgsqlCommand Command(NpgsqlConnection connection, string text, params object?[] values)
    {
        var command = new NpgsqlCommand(text, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }

    /// <summary>A <c>bytea[]</c> parameter, which inference would not pick for jagged byte arrays.</summary>
    public static NpgsqlParameter ByteaArray(byte[][] values) =>
        new() { Value = values, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea };
}
