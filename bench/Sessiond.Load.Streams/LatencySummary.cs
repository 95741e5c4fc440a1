namespace Sessiond.Load.Streams;

/// <summary>Nearest-rank percentiles of latencies in milliseconds.</summary>
internal readonly record struct LatencySummary(int Count, double P50, double P99, double Max)
{
    /// <summary>Summarises <paramref name="milliseconds"/>, ignoring NaN (a sample never taken); sorts a copy.</summary>
    public static LatencySummary Of(IEnumerable<double> milliseconds)
    {
        var sorted = milliseconds.Where(static x => !double.IsNaN(x)).ToArray();
        if (sorted.Length == 0)
        {
            return new LatencySummary(0, double.NaN, double.NaN, double.NaN);
        }

        Array.Sort(sorted);
        return new LatencySummary(sorted.Length, Rank(sorted, 0.50), Rank(sorted, 0.99), sorted[^1]);
    }

    private static double Rank(double[] sorted, double percentile) =>
        sorted[Math.Clamp((int)Math.Ceiling(percentile * sorted.Length) - 1, 0, sorted.Length - 1)];
}
