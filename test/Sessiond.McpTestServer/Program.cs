using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

using Sessiond.McpTestServer;

// The lower-level server API keeps this free of Microsoft.Extensions.Hosting, which DEPENDENCIES.md does not list.
// No logger factory is passed: stdout carries the protocol only.
var options = new McpServerOptions
{
    ServerInfo = new Implementation { Name = "sessiond-test", Version = "1.0.0" },
    ToolCollection = TestTools.Create(),
};

await using var transport = new StdioServerTransport(options, loggerFactory: null);
await using var server = McpServer.Create(transport, options, loggerFactory: null, serviceProvider: null);
await server.RunAsync();
