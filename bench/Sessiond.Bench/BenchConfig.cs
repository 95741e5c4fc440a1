using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Sessiond.Bench;

/// <summary>
/// Short runs (3 warm-up and 3 measured iterations), in process. In process, because the default toolchain would build
/// a second copy of src/ in Release while other builds of the tree may be running, and because a whole run then takes a
/// couple of minutes; the figures are for comparing changes on one machine, not for publishing to the nanosecond.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        Add(DefaultConfig.Instance);
        AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
    }
}
