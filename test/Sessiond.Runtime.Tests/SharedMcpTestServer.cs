using Sessiond.Runtime.Tools;

namespace Sessiond.Runtime.Tests;

/// <summary>One MCP test server for a test class, so each test does not pay for a process start.</summary>
public sealed class SharedMcpTestServer : IAsyncLifetime
{
    private McpToolset? _toolset;

    public McpToolset Toolset => _toolset ?? throw new InvalidOperationException("The shared MCP test server has not started.");

    public async ValueTask InitializeAsync() =>
        _toolset = await McpToolset.StartAsync(McpTestServer.Definition("shared"), TestContext.Current.CancellationToken)
            .WaitForAsync(TimeSpan.FromSeconds(30), "the shared MCP test server to start");

    public async ValueTask DisposeAsync()
    {
        if (_toolset is not null)
        {
            await _toolset.DisposeAsync();
        }
    }
}
