using System.Diagnostics;
using System.Globalization;

namespace Sessiond.Load.Streams;

/// <summary>The server's memory and CPU time, read from <c>/proc/&lt;pid&gt;</c>; the server itself is never asked.</summary>
internal sealed class ServerProcess(int pid)
{
    /// <summary>Clock ticks per second of <c>/proc/&lt;pid&gt;/stat</c>; 100 on every Linux this runs on.</summary>
    private const double TicksPerSecond = 100;

    public int Pid => pid;

    /// <summary>A field of <c>/proc/&lt;pid&gt;/status</c> such as <c>VmRSS</c> (kB) or <c>Threads</c>.</summary>
    public long Status(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                var value = line[(field.Length + 1)..].Trim();
                var space = value.IndexOf(' ', StringComparison.Ordinal);
                return long.Parse(space < 0 ? value : value[..space], NumberStyles.None, CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no {field} line.");
    }

    /// <summary>User plus system CPU seconds the server has used.</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the command name, which is in parentheses and may hold spaces: state is the first, utime the 12th.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>
    /// Samples VmRSS every second until the last <paramref name="window"/> samples lie within <paramref name="toleranceKb"/>
    /// of each other, for at most <paramref name="limit"/>; returns the last sample and whether it settled.
    /// </summary>
    public async Task<(long RssKb, bool Settled, double Seconds)> WaitForStableRssAsync(
        int window, long toleranceKb, TimeSpan limit, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var samples = new List<long>();
        while (true)
        {
            samples.Add(Status("VmRSS"));
            if (samples.Count >= window)
            {
                var recent = samples[^window..];
                if (recent.Max() - recent.Min() <= toleranceKb)
                {
                    return (samples[^1], true, stopwatch.Elapsed.TotalSeconds);
                }
            }

            if (stopwatch.Elapsed >= limit)
            {
                return (samples[^1], false, stopwatch.Elapsed.TotalSeconds);
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }
}
