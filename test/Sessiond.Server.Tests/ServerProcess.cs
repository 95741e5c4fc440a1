using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Sessiond.Server.Tests;

/// <summary>
/// The real server as a separate OS process (<c>dotnet sessiond.dll</c>, built next to this test assembly through the
/// project reference), on 127.0.0.1 and a port the OS picks, over a data directory the caller owns.
/// <see cref="KillAsync"/> sends SIGKILL, like <c>kill -9</c>; <see cref="RestartAsync"/> starts it again on the same
/// directory; disposing kills whatever is still running by its process id.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private const int OutputLinesKept = 200;

    private readonly Queue<string> _output = new();
    private readonly Lock _outputLock = new();
    private Process? _process;

    private readonly IReadOnlyList<string> _extraArguments;

    private ServerProcess(string dataDir, IReadOnlyList<string>? extraArguments)
    {
        DataDir = dataDir;
        _extraArguments = extraArguments ?? [];
    }

    /// <summary>The data directory every start of this server uses.</summary>
    public string DataDir { get; }

    /// <summary>Where the current process listens, read from its "Now listening on:" line.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The id of the current process.</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("The server process was never started.");

    /// <summary>The path of the server assembly that is run.</summary>
    public static string ServerAssembly => Path.Combine(AppContext.BaseDirectory, "sessiond.dll");

    /// <summary>
    /// Starts the server on <paramref name="dataDir"/> and waits, up to <paramref name="timeout"/>, until it listens.
    /// <paramref name="extraArguments"/> go on its command line after the standard ones (another store, for example).
    /// </summary>
    public static async Task<ServerProcess> StartAsync(string dataDir, TimeSpan timeout, IReadOnlyList<string>? extraArguments = null)
    {
        var server = new ServerProcess(dataDir, extraArguments);
        try
        {
            await server.StartProcessAsync(timeout);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server again on the same data directory, after it was killed or exited.</summary>
    public async Task RestartAsync(TimeSpan timeout)
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException($"The server process {_process.Id} is still running; kill it before restarting.");
        }

        _process?.Dispose();
        _process = null;
        await StartProcessAsync(timeout);
    }

    /// <summary>Sends SIGKILL to the process (and any children) and waits until it is gone.</summary>
    public async Task KillAsync(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException("The server process was never started.");
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync().WaitForAsync(timeout, $"server process {process.Id} to exit after SIGKILL");
    }

    /// <summary>Sends SIGTERM, as a service manager does, and waits until the process has shut down gracefully.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException("The server process was never started.");
        // Process can only send SIGKILL; kill(1) sends SIGTERM.
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync().WaitForAsync(timeout, "kill -TERM to finish");
        }

        await process.WaitForExitAsync().WaitForAsync(timeout, $"server process {process.Id} to exit after SIGTERM");
    }

    /// <summary>The last lines the process wrote to stdout and stderr, for failure messages.</summary>
    public string RecentOutput()
    {
        lock (_outputLock)
        {
            return string.Join(Environment.NewLine, _output);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitForAsync(TimeSpan.FromSeconds(30), $"server process {process.Id} to exit on dispose");
            }

            process.Dispose();
            _process = null;
        }
    }

    private async Task StartProcessAsync(TimeSpan timeout)
    {
        if (!File.Exists(ServerAssembly))
        {
            throw new FileNotFoundException(
                "The server assembly is missing next to the test assembly; the test project's reference to Sessiond.Server copies it there.",
                ServerAssembly);
        }

        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in (string[])
            [
                ServerAssembly, "--urls", "http://127.0.0.1:0", "--data-dir", DataDir,
                "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information",
            ])
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var argument in _extraArguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Settings from the test's own environment must not move the server elsewhere.
        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("DOTNET_URLS");
        start.Environment.Remove("SESSIOND_DATA_DIR");
        start.Environment["DOTNET_NOLOGO"] = "1";

        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is null)
            {
                listening.TrySetException(new InvalidOperationException(
                    $"The server process closed its output before it listened. Output:{Environment.NewLine}{RecentOutput()}"));
                return;
            }

            Record(line.Data);
            if (ListeningLine().Match(line.Data) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups["url"].Value + "/"));
            }
        };
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                Record(line.Data);
            }
        };

        lock (_outputLock)
        {
            _output.Clear();
        }

        process.Start();
        _process = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            BaseAddress = await listening.Task.WaitForAsync(
                timeout, $"the line 'Now listening on: http://127.0.0.1:<port>' from 'dotnet {ServerAssembly}' (pid {process.Id})");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} Output so far:{Environment.NewLine}{RecentOutput()}", ex);
        }
    }

    private void Record(string line)
    {
        lock (_outputLock)
        {
            _output.Enqueue(line);
            if (_output.Count > OutputLinesKept)
            {
                _output.Dequeue();
            }
        }
    }

    /// <summary>The <c>dotnet</c> host that runs this test, so the server runs on the same runtime.</summary>
    private static string DotnetHost()
    {
        var executable = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "dotnet.exe" : "dotnet";
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.ProcessPath is { } processPath
            && string.Equals(Path.GetFileName(processPath), executable, StringComparison.OrdinalIgnoreCase))
        {
            return processPath;
        }

        // <root>/shared/Microsoft.NETCore.App/<version>/ holds the runtime; the host sits in <root>.
        var fromRuntime = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", executable));
        return File.Exists(fromRuntime) ? fromRuntime : executable;
    }

    [GeneratedRegex(@"Now listening on: (?<url>http://\S+)")]
    private static partial Regex ListeningLine();
}
