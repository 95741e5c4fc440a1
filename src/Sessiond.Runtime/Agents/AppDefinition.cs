namespace Sessiond.Runtime.Agents;

/// <summary>One app's agents, models, toolsets and permissions, as read from <c>&lt;agents dir&gt;/&lt;app&gt;.yaml</c>.</summary>
public sealed record AppDefinition(
    string Name,
    string Source,
    IReadOnlyDictionary<string, ModelDefinition> Models,
    IReadOnlyDictionary<string, AgentDefinition> Agents,
    IReadOnlyDictionary<string, ToolsetDefinition> Toolsets,
    PermissionRules Permissions)
{
    /// <summary>The agent a turn runs when it names none.</summary>
    public const string RootAgent = "root";
}

/// <summary>A model: which provider serves it, the provider's model name, and its price per million tokens.</summary>
public sealed record ModelDefinition(string Name, string Provider, string Model)
{
    public string? BaseUrl { get; init; }

    /// <summary>The environment variable that holds the API key; the key itself never sits in a file.</summary>
    public string? ApiKeyEnv { get; init; }

    public decimal InputPerMTok { get; init; }

    public decimal OutputPerMTok { get; init; }

    /// <summary>For the <c>scripted</c> provider: the steps each turn plays, one per model call.</summary>
    public IReadOnlyList<ScriptStep> Script { get; init; } = [];

    /// <summary>For the offline providers: a pause before each streamed chunk, for demos and tests of cancel and steer.</summary>
    public TimeSpan ChunkDelay { get; init; }

    /// <summary>How long one model call may take before it fails with <c>model_timeout</c>.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>One step of a scripted model: a reply text, tool calls, or an error to raise.</summary>
public sealed record ScriptStep(string? Text, IReadOnlyList<ScriptedToolCall> ToolCalls, string? Error);

/// <summary>A tool call a scripted model makes; <see cref="ArgsJson"/> is a JSON object.</summary>
public sealed record ScriptedToolCall(string Name, string ArgsJson);

/// <summary>An agent: its model, instruction, toolsets and sub-agents.</summary>
public sealed record AgentDefinition(string Name, string Model, string Instruction)
{
    public string? Description { get; init; }

    /// <summary>Names of toolsets from the app's <c>toolsets</c>.</summary>
    public IReadOnlyList<string> Tools { get; init; } = [];

    public IReadOnlyList<string> SubAgents { get; init; } = [];

    /// <summary>How many model calls one turn may make before it stops.</summary>
    public int MaxIterations { get; init; } = 10;
}

/// <summary>A set of tools: an MCP server over stdio, or a built-in set.</summary>
public sealed record ToolsetDefinition(string Name, string Type)
{
    public const string Mcp = "mcp";
    public const string Builtin = "builtin";

    public string? Command { get; init; }

    public IReadOnlyList<string> Args { get; init; } = [];

    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();
}

/// <summary>Glob patterns over tool names: deny wins, then allow, then ask. A tool no pattern names is allowed.</summary>
public sealed record PermissionRules(IReadOnlyList<string> Allow, IReadOnlyList<string> Ask, IReadOnlyList<string> Deny)
{
    public static readonly PermissionRules None = new([], [], []);
}
