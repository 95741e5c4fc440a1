using System.Reflection;

using Sessiond.Runtime.Agents;

namespace Sessiond.Runtime.Tests;

/// <summary>Starts <c>test/Sessiond.McpTestServer</c>, built alongside this project, as an MCP toolset.</summary>
internal static class McpTestServer
{
    /// <summary>Where the build put the server's dll, recorded by the test project at build time.</summary>
    public static string DllPath { get; } = FindDll();

    /// <summary>An <c>mcp</c> toolset that runs the test server with the same <c>dotnet</c> host as the tests.</summary>
    public static ToolsetDefinition Definition(string name = "test", IReadOnlyDictionary<string, string>? env = null)
    {
        var variables = new Dictionary<string, string>(env ?? new Dictionary<string, string>());
        // The toolset passes a small environment; a dotnet outside the default location needs to be told where it is.
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root)
        {
            variables.TryAdd("DOTNET_ROOT", root);
        }

        return new ToolsetDefinition(name, ToolsetDefinition.Mcp) { Command = DotnetHost(), Args = [DllPath], Env = variables };
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static string FindDll()
    {
        var path = typeof(McpTestServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(attribute => attribute.Key == "McpTestServerPath")?.Value;
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new InvalidOperationException(
                $"The MCP test server was not found at '{path}'. Build test/Sessiond.Runtime.Tests, which builds it too.");
        }

        return path;
    }
}
