using System.Net;
using System.Text.Json;
using Sessiond.Runtime.Tests;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>
/// A scripted agent whose tools are served by a real MCP server over stdio: a call that needs approval, approved from a
/// second client, then a tool that asks the user a question, answered over HTTP.
/// </summary>
public sealed class McpTurnTests(McpTurnTests.McpServerFixture server) : IClassFixture<McpTurnTests.McpServerFixture>
{
    [Fact]
    public async Task An_mcp_tool_needing_approval_is_approved_from_a_second_client_then_its_question_is_answered()
    {
        var http = server.Http;
        var id = await StreamTestHelpers.CreateSessionAsync(http, "mcp", SessiondServer.NewId("u"));
        await using var stream = await SseClient.ConnectAsync(http, $"v1/sessions/{id}/stream");
        (await http.PostJsonAsync($"v1/sessions/{id}/turns", """{"input":"add and greet"}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        await stream.ReadUntilAsync(f => f.Event == "status" && f.Data.Contains("waiting"), "the approval request for 'add'");

        var status = await (await http.GetAsync($"v1/sessions/{id}/status", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK);
        var approval = status.GetProperty("pendingApprovals").EnumerateArray().Single();
        approval.GetProperty("name").GetString().ShouldBe("add");
        using var second = new HttpClient { BaseAddress = server.BaseAddress };
        await (await second.PostJsonAsync($"v1/sessions/{id}/approvals",
            $$"""{"toolCallId":"{{approval.GetProperty("toolCallId").GetString()}}","decision":"approve"}""")).ShouldBeJsonAsync(HttpStatusCode.OK);

        await stream.ReadUntilAsync(f => f.Event == "event" && f.Data.Contains("requestedInput"), "the MCP server's question");
        await stream.ReadUntilAsync(f => f.Event == "status" && f.Data.Contains("waiting"), "the wait for the answer");
        status = await (await http.GetAsync($"v1/sessions/{id}/status", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK);
        status.GetProperty("status").GetString().ShouldBe("waiting");
        var question = status.GetProperty("pendingElicitations").EnumerateArray().Single();
        question.GetProperty("message").GetString().ShouldBe("What is your name?");
        question.GetProperty("requestedSchema").GetProperty("required")[0].GetString().ShouldBe("name");
        (await http.PostJsonAsync($"v1/sessions/{id}/elicitations/{question.GetProperty("elicitationId").GetString()}",
            """{"action":"accept","content":{"name":"Ada"}}""")).StatusCode.ShouldBe(HttpStatusCode.Accepted);

        await stream.ReadUntilAsync(f => f.Event == "status" && f.Data.Contains("idle"), "the end of the turn");
        var events = (await (await http.GetAsync($"v1/sessions/{id}/events", TestContext.Current.CancellationToken)).ShouldBeJsonAsync(HttpStatusCode.OK))
            .GetProperty("events").EnumerateArray().Select(e => e.GetRawText()).ToList();
        events.ShouldContain(e => e.Contains("\"functionResponse\"") && e.Contains("\"value\":5"));
        events.ShouldContain(e => e.Contains("\"functionResponse\"") && e.Contains("Hello, Ada"));
        events[^1].ShouldContain("Greeted.");
    }

    /// <summary>A server whose app <c>mcp</c> runs the test MCP server as a toolset.</summary>
    public sealed class McpServerFixture : SessiondServer
    {
        private readonly string _agentsDir = Directory.CreateTempSubdirectory("sessiond-mcp-agents-").FullName;

        public McpServerFixture()
        {
            var toolset = McpTestServer.Definition();
            var env = string.Join(", ", toolset.Env.Select(kv => $"{kv.Key}: {JsonSerializer.Serialize(kv.Value)}"));
            File.WriteAllText(Path.Combine(_agentsDir, "mcp.yaml"), $$$"""
                models:
                  demo:
                    provider: scripted
                    script:
                      - toolCalls: [{name: add, args: {a: 2, b: 3}}]
                      - toolCalls: [{name: ask_name, args: {}}]
                      - text: Greeted.
                agents:
                  root: {model: demo, tools: [tests]}
                toolsets:
                  tests: {type: mcp, command: {{{JsonSerializer.Serialize(toolset.Command)}}}, args: [{{{JsonSerializer.Serialize(toolset.Args[0])}}}], env: { {{{env}}} }}
                permissions: {ask: [add]}
                """);
        }

        protected override string[] ExtraArgs => ["--agents-dir", _agentsDir];

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            Directory.Delete(_agentsDir, recursive: true);
        }
    }
}
