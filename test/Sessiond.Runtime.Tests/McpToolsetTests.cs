using System.Diagnostics;
using System.Text.Json;

using ModelContextProtocol.Protocol;

using Sessiond.Runtime.Agents;
using Sessiond.Runtime.Tools;

using Shouldly;

namespace Sessiond.Runtime.Tests;

/// <summary>
/// Calls go to one test server shared by the class (each call routes its own elicitations); tests of start, environment
/// and stop start their own.
/// </summary>
public sealed class McpToolsetTests(SharedMcpTestServer shared) : IClassFixture<SharedMcpTestServer>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private McpToolset Shared => shared.Toolset;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lists_the_servers_tools_with_their_descriptions_and_schemas()
    {
        Shared.Tools.Select(tool => tool.Name).ShouldBe(["echo", "add", "fail", "ask_name", "slow", "env", "pid"], ignoreOrder: true);
        var add = Tool(Shared, "add");
        add.Description.ShouldBe("Adds two integers.");
        add.ParametersSchema.GetProperty("type").GetString().ShouldBe("object");
        add.ParametersSchema.GetProperty("properties").GetProperty("a").GetProperty("type").GetString().ShouldBe("integer");
        add.ParametersSchema.GetProperty("properties").GetProperty("b").GetProperty("description").GetString().ShouldBe("Second addend.");
        add.ParametersSchema.GetProperty("required").EnumerateArray().Select(name => name.GetString()).ShouldBe(["a", "b"], ignoreOrder: true);
    }

    [Fact]
    public async Task Echo_returns_the_text_as_content()
    {
        var result = await CallAsync(Shared, "echo", """{"text":"hi there"}""");

        result.StateDelta.ShouldBeNull();
        result.Response.GetProperty("content").GetString().ShouldBe("hi there");
        result.Response.GetProperty("isError").GetBoolean().ShouldBeFalse();
    }

    [Fact]
    public async Task Add_returns_its_structured_content()
    {
        var result = await CallAsync(Shared, "add", """{"a":2,"b":40}""");

        result.Response.GetProperty("value").GetInt32().ShouldBe(42);
    }

    [Fact]
    public async Task A_tool_error_is_a_result_the_model_sees()
    {
        var result = await CallAsync(Shared, "fail", "{}");

        result.Response.GetProperty("isError").GetBoolean().ShouldBeTrue();
        result.Response.GetProperty("content").GetString().ShouldBe("this tool always fails");
    }

    [Fact]
    public async Task An_elicitation_reaches_the_calls_context_and_the_answer_reaches_the_server()
    {
        var asked = new TaskCompletionSource<ElicitationRequest>(TaskCreationOptions.RunContinuationsAsynchronously);
        var answer = new TaskCompletionSource<ElicitationAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        var context = Context(async (request, cancellationToken) =>
        {
            asked.TrySetResult(request);
            return await answer.Task.WaitAsync(cancellationToken);
        });

        var call = Tool(Shared, "ask_name").InvokeAsync(Json("{}"), context, Ct);
        var request = await asked.Task.WaitForAsync(Timeout, "ask_name's elicitation to reach the ToolContext");

        request.Message.ShouldBe("What is your name?");
        var schema = request.RequestedSchema.ShouldNotBeNull();
        schema.GetProperty("properties").GetProperty("name").GetProperty("type").GetString().ShouldBe("string");
        schema.GetProperty("required").EnumerateArray().Select(name => name.GetString()).ShouldBe(["name"]);
        call.IsCompleted.ShouldBeFalse("the call waits for the user's answer");

        answer.SetResult(new ElicitationAnswer(ElicitationAnswer.Accept, Json("""{"name":"Ada"}""")));
        var result = await call.WaitForAsync(Timeout, "ask_name to return after the answer");

        result.Response.GetProperty("content").GetString().ShouldBe("Hello, Ada");
    }

    [Theory]
    [InlineData(ElicitationAnswer.Decline, "declined")]
    [InlineData(ElicitationAnswer.Cancel, "cancelled")]
    public async Task A_declined_or_cancelled_elicitation_reaches_the_server(string action, string reply)
    {
        var context = Context((_, _) => Task.FromResult(new ElicitationAnswer(action, null)));

        var result = await CallAsync(Shared, "ask_name", "{}", context);

        result.Response.GetProperty("content").GetString().ShouldBe(reply);
    }

    [Fact]
    public async Task An_elicitation_with_no_call_in_progress_is_declined()
    {
        var result = await Shared.ElicitAsync(new ElicitRequestParams { Message = "Anyone there?" }, Ct);

        result.Action.ShouldBe(ElicitationAnswer.Decline);
    }

    [Fact]
    public async Task A_cancelled_call_throws_and_the_toolset_still_works()
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var call = Tool(Shared, "slow").InvokeAsync(Json("""{"ms":60000}"""), Context(), cancel.Token);
        await cancel.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(() => call.WaitForAsync(Timeout, "the cancelled slow call to end"));
        (await CallAsync(Shared, "echo", """{"text":"still here"}""")).Response.GetProperty("content").GetString().ShouldBe("still here");
    }

    [Fact]
    public async Task The_server_gets_the_toolsets_env_but_not_the_hosts_secrets()
    {
        // A unique name: the variable is process-wide and tests run in parallel.
        var secret = "SESSIOND_TEST_SECRET_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(secret, "do-not-pass");
        try
        {
            await using var toolset = await StartAsync(env: new Dictionary<string, string> { ["SESSIOND_TEST_MODE"] = "on" });

            (await CallAsync(toolset, "env", """{"name":"SESSIOND_TEST_MODE"}""")).Response.GetProperty("content").GetString().ShouldBe("on");
            (await CallAsync(toolset, "env", $$"""{"name":"{{secret}}"}""")).Response.GetProperty("content").GetString().ShouldBe("(unset)");
        }
        finally
        {
            Environment.SetEnvironmentVariable(secret, null);
        }
    }

    [Fact]
    public async Task Dispose_leaves_no_server_process_behind()
    {
        var toolset = await StartAsync();
        var pid = await ServerPidAsync(toolset);
        IsRunning(pid).ShouldBeTrue();

        await toolset.DisposeAsync().AsTask().WaitForAsync(Timeout, "the toolset to stop its server");

        IsRunning(pid).ShouldBeFalse($"server process {pid} should be gone after dispose");
    }

    [Fact]
    public async Task A_server_that_died_makes_calls_fail_with_a_message_not_an_exception()
    {
        await using var toolset = await StartAsync("dies");
        using (var server = Process.GetProcessById(await ServerPidAsync(toolset)))
        {
            server.Kill();
            await server.WaitForExitAsync(Ct).WaitForAsync(Timeout, "the killed server to exit");
        }

        var result = await CallAsync(toolset, "echo", """{"text":"anyone?"}""");

        result.Response.GetProperty("error").GetString().ShouldNotBeNull().ShouldContain("toolset 'dies'");
    }

    [Fact]
    public async Task A_command_that_does_not_exist_fails_naming_the_toolset_and_command()
    {
        var definition = new ToolsetDefinition("ghost", ToolsetDefinition.Mcp) { Command = "sessiond-no-such-mcp-server" };

        var error = await Should.ThrowAsync<ToolsetException>(() => McpToolset.StartAsync(definition, Ct).WaitForAsync(Timeout, "the start to fail"));

        error.Toolset.ShouldBe("ghost");
        error.Message.ShouldContain("'ghost'");
        error.Message.ShouldContain("sessiond-no-such-mcp-server");
    }

    [Fact]
    public async Task A_server_that_exits_on_start_fails_with_its_stderr()
    {
        var definition = McpTestServer.Definition("broken") with { Args = ["/nonexistent/Sessiond.Missing.dll"] };

        var error = await Should.ThrowAsync<ToolsetException>(() => McpToolset.StartAsync(definition, Ct).WaitForAsync(Timeout, "the start to fail"));

        error.Toolset.ShouldBe("broken");
        error.Message.ShouldContain("'broken'");
        error.Message.ShouldContain("Sessiond.Missing.dll");
    }

    private static Task<McpToolset> StartAsync(string name = "test", IReadOnlyDictionary<string, string>? env = null) =>
        McpToolset.StartAsync(McpTestServer.Definition(name, env), Ct).WaitForAsync(Timeout, "the MCP test server to start");

    private static IAgentTool Tool(McpToolset toolset, string name) => toolset.Tools.Single(tool => tool.Name == name);

    private static Task<ToolResult> CallAsync(McpToolset toolset, string name, string arguments, ToolContext? context = null) =>
        Tool(toolset, name).InvokeAsync(Json(arguments), context ?? Context(), Ct).WaitForAsync(Timeout, $"the {name} call to return");

    private static async Task<int> ServerPidAsync(McpToolset toolset) =>
        int.Parse((await CallAsync(toolset, "pid", "{}")).Response.GetProperty("content").GetString()!, System.Globalization.CultureInfo.InvariantCulture);

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static ToolContext Context(Func<ElicitationRequest, CancellationToken, Task<ElicitationAnswer>>? elicit = null) =>
        new("s1", new Dictionary<string, JsonElement>(), TimeProvider.System,
            elicit ?? ((_, _) => throw new InvalidOperationException("this call should not elicit")));

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
