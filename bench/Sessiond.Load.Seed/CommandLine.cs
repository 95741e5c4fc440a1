using System.Globalization;

namespace Sessiond.Load.Seed;

/// <summary>The <c>--name value</c> options after the command word; small enough not to need a parsing package.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    private CommandLine()
    {
    }

    public static CommandLine Parse(ReadOnlySpan<string> args)
    {
        var options = new CommandLine();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Expected '--name value' pairs, but '{args[i]}' has no value.");
            }

            options._values[args[i][2..]] = args[++i];
        }

        return options;
    }

    public string Required(string name) =>
        _values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required.");

    public int Int(string name, int fallback) =>
        _values.TryGetValue(name, out var value) ? int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture) : fallback;
}
