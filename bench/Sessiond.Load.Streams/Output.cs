using System.Globalization;

namespace Sessiond.Load.Streams;

/// <summary>Results go to stdout as <c>key=value</c> lines that <c>run.sh</c> reads; progress goes to stderr.</summary>
internal static class Output
{
    public static void Value(string key, long value) => Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{key}={value}"));

    public static void Value(string key, double value, int decimals) =>
        Console.Out.WriteLine($"{key}={value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)}");

    public static void Value(string key, string value) => Console.Out.WriteLine($"{key}={value}");

    /// <summary>p50, p99 and max in milliseconds, and the sample count, as <c>prefix.p50_ms</c> and so on.</summary>
    public static void Latencies(string prefix, LatencySummary summary)
    {
        Value(prefix + ".samples", summary.Count);
        Value(prefix + ".p50_ms", summary.P50, 2);
        Value(prefix + ".p99_ms", summary.P99, 2);
        Value(prefix + ".max_ms", summary.Max, 2);
    }

    public static void Progress(string message) =>
        Console.Error.WriteLine($"[{DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}] {message}");
}
