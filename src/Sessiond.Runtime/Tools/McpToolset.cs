using System.Diagnostics;
using System.Text;
using System.Text.Json;

using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

using Sessiond.Runtime.Agents;

namespace Sessiond.Runtime.Tools;

/// <summary>
/// The tools of one MCP server, started over stdio for one turn and stopped when the turn ends.
/// </summary>
/// <remarks>
/// <para>
/// Tool names reach the model as the server spells them, unprefixed, so agent files and permission globs name them the
/// way the server's own documentation does. When two toolsets of one agent offer the same name, the toolset listed
/// first in the agent's <c>tools</c> wins and the later one's tool is not offered.
/// </para>
/// <para>
/// The server gets a small environment (PATH, HOME, USER and the like, as other MCP hosts pass) plus the toolset's
/// <c>env</c>, never the whole environment of Sessiond, which holds model API keys and signing secrets.
/// </para>
/// <para>
/// Calls into one toolset run one at a time: the turn loop calls tools in sequence, and a gate enforces it, because
/// an elicitation request from the server carries no link to the call that caused it and is routed to the one call
/// in progress.
/// </para>
/// </remarks>
public sealed class McpToolset : IToolset
{
    /// <summary>How long the server may take to exit after its stdin closes before it is killed.</summary>
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(2);

    /// <summary>How long the server may take to start and answer the MCP handshake.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long the first <c>server/discover</c> probe may wait before the SDK falls back to <c>initialize</c>. The SDK's
    /// 5 s default breaks servers of the newest protocol revision that take longer to start (a cold <c>npx</c> or
    /// <c>dotnet</c>): they read the probe late, answer it, and then refuse the fallback <c>initialize</c>. Servers of
    /// older revisions answer the probe at once with "method not found", so a long wait costs them nothing.
    /// </summary>
    private static readonly TimeSpan DiscoverProbeTimeout = TimeSpan.FromSeconds(30);

    private const int StderrTailLines = 10;

    private readonly string _name;
    private readonly string _command;
    private readonly Queue<string> _stderrTail = new();
    private readonly SemaphoreSlim _callGate = new(1, 1);
    private McpClient? _client;
    private CallInProgress? _current;
    private DateTime _startedAfter;
    private DateTime _startedBefore;
    private int _disposed;

    private McpToolset(string name, string command)
    {
        _name = name;
        _command = command;
    }

    /// <summary>The server's tools, in the order it listed them.</summary>
    public IReadOnlyList<IAgentTool> Tools { get; private set; } = [];

    /// <summary>The toolset's name from the app's <c>toolsets</c>.</summary>
    public string Name => _name;

    /// <summary>
    /// Starts the server of an <c>mcp</c> toolset, completes the MCP handshake and lists its tools.
    /// Throws <see cref="ToolsetException"/>, naming the toolset and the command, when the server cannot be started.
    /// </summary>
    public static async Task<McpToolset> StartAsync(ToolsetDefinition definition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (definition.Type != ToolsetDefinition.Mcp || string.IsNullOrWhiteSpace(definition.Command))
        {
            throw new ToolsetException(definition.Name, $"Toolset '{definition.Name}' is not an mcp toolset with a command.");
        }

        var toolset = new McpToolset(definition.Name, definition.Command);
        try
        {
            await toolset.ConnectAsync(definition, cancellationToken).ConfigureAwait(false);
            return toolset;
        }
        catch (Exception exception)
        {
            await toolset.DisposeAsync().ConfigureAwait(false);
            if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new ToolsetException(
                definition.Name,
                $"MCP toolset '{definition.Name}' could not start its server '{DescribeCommand(definition)}': " +
                toolset.Explain(exception),
                exception);
        }
    }

    private async Task ConnectAsync(ToolsetDefinition definition, CancellationToken cancellationToken)
    {
        var environment = StdioClientTransportOptions.GetDefaultEnvironmentVariables();
        foreach (var (key, value) in definition.Env)
        {
            environment[key] = value;
        }

        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = $"mcp-{definition.Name}",
            Command = definition.Command!,
            Arguments = [.. definition.Args],
            InheritEnvironmentVariables = false,
            EnvironmentVariables = environment!,
            ShutdownTimeout = ShutdownGrace,
            StandardErrorLines = KeepStderrLine,
        });

        var options = new McpClientOptions
        {
            ClientInfo = new Implementation
            {
                Name = "sessiond",
                Version = typeof(McpToolset).Assembly.GetName().Version?.ToString() ?? "0.0.0",
            },
            InitializationTimeout = StartTimeout,
            DiscoverProbeTimeout = DiscoverProbeTimeout,
            // Form mode only: a question with a JSON schema is what the session's elicitation flow can ask.
            Capabilities = new ClientCapabilities { Elicitation = new ElicitationCapability { Form = new FormElicitationCapability() } },
            // The handler lives as long as the client, so it finds the call it belongs to through _current.
            Handlers = new McpClientHandlers { ElicitationHandler = ElicitAsync },
        };

        _startedAfter = DateTime.Now;
        _client = await McpClient.CreateAsync(transport, options, loggerFactory: null, cancellationToken).ConfigureAwait(false);
        _startedBefore = DateTime.Now;

        var tools = await _client.ListToolsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        Tools = [.. tools.Select(tool => new McpAgentTool(this, tool.ProtocolTool))];
    }

    /// <summary>Closes the server's stdin, waits briefly for it to exit, and kills its process tree if it has not.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_client is { } client)
        {
            // The SDK closes stdin, waits up to ShutdownGrace and then kills the process tree.
            await client.DisposeAsync().ConfigureAwait(false);
            var completion = await client.Completion.ConfigureAwait(false);
            if (completion is StdioClientCompletionDetails { ProcessId: int processId, ExitCode: null })
            {
                // The SDK did not see the process exit; make sure no server outlives its turn.
                await EnsureExitedAsync(processId).ConfigureAwait(false);
            }
        }

        // _callGate is not disposed: a call cut short by this dispose still releases it on its way out.
    }

    private async Task EnsureExitedAsync(int processId)
    {
        Process process;
        try
        {
            process = Process.GetProcessById(processId);
        }
        catch (ArgumentException)
        {
            return;
        }

        using (process)
        {
            try
            {
                // A process that started outside the window in which ours did has reused the id: leave it alone.
                var slack = TimeSpan.FromSeconds(1);
                if (process.HasExited || process.StartTime < _startedAfter - slack || process.StartTime > _startedBefore + slack)
                {
                    return;
                }

                using var grace = new CancellationTokenSource(ShutdownGrace);
                try
                {
                    await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception exception) when (exception is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // The process exited between the checks.
            }
        }
    }

    private async Task<ToolResult> CallAsync(string toolName, JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        var client = _client ?? throw new InvalidOperationException($"MCP toolset '{_name}' is not started.");
        await _callGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Volatile.Write(ref _current, new CallInProgress(context, cancellationToken));
            var request = new CallToolRequestParams { Name = toolName, Arguments = ToArguments(arguments) };
            CallToolResult result;
            try
            {
                result = await client.CallToolAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (McpProtocolException exception)
            {
                // The server refused the request (unknown tool, invalid arguments): the model may correct itself.
                return ToolResult.Failure($"MCP tool '{toolName}' of toolset '{_name}' failed: {exception.Message}");
            }
            catch (Exception exception)
            {
                return ToolResult.Failure(
                    $"MCP server of toolset '{_name}' ('{_command}') could not be reached: {Explain(exception)}");
            }

            return new ToolResult(ToResponse(result));
        }
        finally
        {
            Volatile.Write(ref _current, null);
            _callGate.Release();
        }
    }

    /// <summary>Answers <c>elicitation/create</c> by asking the user through the context of the call in progress.</summary>
    internal async ValueTask<ElicitResult> ElicitAsync(ElicitRequestParams? request, CancellationToken cancellationToken)
    {
        // Without a call in progress there is nobody to ask. URL-mode elicitation sends the user to a web page, which
        // the session's question-and-answer flow cannot carry.
        if (Volatile.Read(ref _current) is not { } call || request is null || request.Mode == "url")
        {
            return new ElicitResult { Action = ElicitationAnswer.Decline };
        }

        JsonElement? schema = request.RequestedSchema is null
            ? null
            : JsonSerializer.SerializeToElement(request.RequestedSchema, McpJsonUtilities.DefaultOptions);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, call.CancellationToken);
        var answer = await call.Context.ElicitAsync(new ElicitationRequest(request.Message, schema), both.Token)
            .ConfigureAwait(false);

        return answer.Action switch
        {
            ElicitationAnswer.Accept => new ElicitResult { Action = ElicitationAnswer.Accept, Content = ToContent(answer.Content) },
            ElicitationAnswer.Decline => new ElicitResult { Action = ElicitationAnswer.Decline },
            _ => new ElicitResult { Action = ElicitationAnswer.Cancel },
        };
    }

    private static Dictionary<string, JsonElement>? ToContent(JsonElement? content)
    {
        if (content is not { ValueKind: JsonValueKind.Object } value)
        {
            return null;
        }

        var fields = new Dictionary<string, JsonElement>();
        foreach (var property in value.EnumerateObject())
        {
            fields[property.Name] = property.Value.Clone();
        }

        return fields;
    }

    private static Dictionary<string, JsonElement>? ToArguments(JsonElement arguments)
    {
        if (arguments.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var fields = new Dictionary<string, JsonElement>();
        foreach (var property in arguments.EnumerateObject())
        {
            fields[property.Name] = property.Value.Clone();
        }

        return fields;
    }

    /// <summary>
    /// A successful call with structured content returns that object; otherwise the text parts, joined by newlines,
    /// as <c>{"content": "...", "isError": false}</c>. A tool error is <c>{"content": "...", "isError": true}</c>,
    /// a result the model sees and may react to.
    /// </summary>
    internal static JsonElement ToResponse(CallToolResult result)
    {
        var isError = result.IsError == true;
        if (!isError && result.StructuredContent is { ValueKind: JsonValueKind.Object } structured)
        {
            return structured.Clone();
        }

        var text = new StringBuilder();
        foreach (var block in result.Content)
        {
            if (text.Length > 0)
            {
                text.Append('\n');
            }

            // Models here take text only; other blocks are named so the model knows something was left out.
            text.Append(block is TextContentBlock { Text: var part } ? part : $"[{block.Type} content omitted]");
        }

        if (text.Length == 0 && result.StructuredContent is { } other)
        {
            text.Append(other.GetRawText());
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("content", text.ToString());
            writer.WriteBoolean("isError", isError);
            writer.WriteEndObject();
        }

        return JsonDocument.Parse(buffer.ToArray()).RootElement.Clone();
    }

    private void KeepStderrLine(string line)
    {
        lock (_stderrTail)
        {
            if (_stderrTail.Count == StderrTailLines)
            {
                _stderrTail.Dequeue();
            }

            _stderrTail.Enqueue(line);
        }
    }

    /// <summary>
    /// The messages of a failure and its causes, each once, on one line, with the server's last stderr lines unless
    /// the SDK's message already carries them.
    /// </summary>
    private string Explain(Exception exception)
    {
        var message = new StringBuilder();
        for (var current = exception; current is not null; current = current.InnerException)
        {
            var part = OneLine(current.Message);
            if (part.Length == 0 || message.ToString().Contains(part, StringComparison.Ordinal))
            {
                continue;
            }

            message.Append(message.Length > 0 ? ": " : "").Append(part);
        }

        lock (_stderrTail)
        {
            var tail = string.Join(" | ", _stderrTail);
            if (tail.Length > 0 && !message.ToString().Contains(tail, StringComparison.Ordinal))
            {
                message.Append(" | server stderr: ").Append(tail);
            }
        }

        return message.ToString();
    }

    private static string OneLine(string text) =>
        string.Join(" | ", text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string DescribeCommand(ToolsetDefinition definition) =>
        definition.Args.Count == 0 ? definition.Command! : $"{definition.Command} {string.Join(' ', definition.Args)}";

    private sealed record CallInProgress(ToolContext Context, CancellationToken CancellationToken);

    /// <summary>One tool of the server, as the model sees it.</summary>
    private sealed class McpAgentTool(McpToolset toolset, Tool tool) : IAgentTool
    {
        public string Name { get; } = tool.Name;

        public string Description { get; } = tool.Description ?? tool.Title ?? "";

        public JsonElement ParametersSchema { get; } = tool.InputSchema.Clone();

        public Task<ToolResult> InvokeAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken) =>
            toolset.CallAsync(Name, arguments, context, cancellationToken);
    }
}
