using System.ComponentModel;
using System.Text.Json;

using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Sessiond.McpTestServer;

/// <summary>The tools the runtime tests call, each exercising one path of the MCP client.</summary>
internal static class TestTools
{
    public static McpServerPrimitiveCollection<McpServerTool> Create() =>
    [
        McpServerTool.Create(
            ([Description("The text to return.")] string text) => text,
            new McpServerToolCreateOptions { Name = "echo", Description = "Returns the text it is given." }),
        McpServerTool.Create(
            ([Description("First addend.")] int a, [Description("Second addend.")] int b) => new Sum(a + b),
            new McpServerToolCreateOptions { Name = "add", Description = "Adds two integers.", UseStructuredContent = true }),
        McpServerTool.Create(
            () => new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = "this tool always fails" }] },
            new McpServerToolCreateOptions { Name = "fail", Description = "Always returns an error result." }),
        McpServerTool.Create(
            AskNameAsync,
            new McpServerToolCreateOptions { Name = "ask_name", Description = "Asks the user for their name and greets them." }),
        McpServerTool.Create(
            async ([Description("How long to wait, in milliseconds.")] int ms, CancellationToken cancellationToken) =>
            {
                await Task.Delay(ms, cancellationToken);
                return "done";
            },
            new McpServerToolCreateOptions { Name = "slow", Description = "Waits, then returns 'done'." }),
        McpServerTool.Create(
            ([Description("The variable's name.")] string name) => Environment.GetEnvironmentVariable(name) ?? "(unset)",
            new McpServerToolCreateOptions { Name = "env", Description = "Returns an environment variable of this server." }),
        McpServerTool.Create(
            () => Environment.ProcessId,
            new McpServerToolCreateOptions { Name = "pid", Description = "Returns this server's process id." }),
    ];

    private static async Task<string> AskNameAsync(McpServer server, CancellationToken cancellationToken)
    {
        var answer = await server.ElicitAsync(
            new ElicitRequestParams
            {
                Message = "What is your name?",
                RequestedSchema = new ElicitRequestParams.RequestSchema
                {
                    Properties = { ["name"] = new ElicitRequestParams.StringSchema { Description = "Your name." } },
                    Required = ["name"],
                },
            },
            cancellationToken);

        return answer.Action switch
        {
            "accept" when answer.Content?.TryGetValue("name", out var name) == true && name.ValueKind == JsonValueKind.String =>
                $"Hello, {name.GetString()}",
            "accept" => "accepted without a name",
            "decline" => "declined",
            _ => "cancelled",
        };
    }

    private sealed record Sum(int Value);
}
