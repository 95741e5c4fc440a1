using System.Diagnostics;
using System.Globalization;

namespace Sessiond.Load.Seed;

/// <summary>Results go to stdout as <c>key=value</c> lines that <c>run.sh</c> reads; progress goes to stderr.</summary>
internal static class Output
{
    public static void Value(string key, long value) => Console.Out.WriteLine($"{key}={value.ToString(CultureInfo.InvariantCulture)}");

    public static void Seconds(string key, Stopwatch stopwatch) =>
        Console.Out.WriteLine($"{key}={stopwatch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)}");

    public static void Progress(string message) => Console.Error.WriteLine(message);
}
