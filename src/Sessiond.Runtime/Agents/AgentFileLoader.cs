using System.Globalization;
using System.Text.Json;
using Sessiond.Core.Validation;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sessiond.Runtime.Agents;

/// <summary>
/// Reads one <c>&lt;app&gt;.yaml</c> into an <see cref="AppDefinition"/>. It walks YamlDotNet's node tree rather than
/// deserialising into classes, so every error can name the line and the dotted field it is about, and unknown fields
/// are refused instead of silently ignored.
/// </summary>
public static class AgentFileLoader
{
    private static readonly string[] Providers = ["openai", "echo", "scripted"];

    /// <summary>Parses <paramref name="yaml"/>, read from <paramref name="file"/>, for the app <paramref name="appName"/>.</summary>
    /// <exception cref="AgentFileException">The file is not valid; the message says where and why.</exception>
    public static AppDefinition Parse(string appName, string file, string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new AgentFileException(file, e.Start.Line, "(document)", e.InnerException?.Message ?? e.Message);
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this, not a YamlException, when a flow mapping or sequence runs off the end.
            throw new AgentFileException(file, yaml.Split('\n').Length, "(document)", "the file ends inside an unclosed { or [");
        }

        var reader = new Reader(file);
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new AgentFileException(file, 1, "(document)", "expected a mapping with 'models' and 'agents'");
        }

        reader.OnlyKeys(root, "", "models", "agents", "toolsets", "permissions");
        var models = reader.Entries(reader.Required<YamlMappingNode>(root, "", "models"), "models", ReadModel);
        var toolsets = reader.Optional<YamlMappingNode>(root, "", "toolsets") is { } toolsetNode
            ? reader.Entries(toolsetNode, "toolsets", ReadToolset)
            : new Dictionary<string, ToolsetDefinition>();
        var agentsNode = reader.Required<YamlMappingNode>(root, "", "agents");
        var agents = reader.Entries(agentsNode, "agents", ReadAgent);
        var permissions = reader.Optional<YamlMappingNode>(root, "", "permissions") is { } permissionNode
            ? ReadPermissions(reader, permissionNode)
            : PermissionRules.None;

        if (!agents.ContainsKey(AppDefinition.RootAgent))
        {
            throw reader.Error(agentsNode, "agents", $"an agent named '{AppDefinition.RootAgent}' is required; it runs turns that name no agent");
        }

        foreach (var (name, agent) in agents)
        {
            var node = (YamlMappingNode)agentsNode.Children[new YamlScalarNode(name)];
            if (!models.ContainsKey(agent.Model))
            {
                throw reader.Error(node, $"agents.{name}.model", $"unknown model '{agent.Model}'; define it under 'models'");
            }

            foreach (var tool in agent.Tools.Where(t => !toolsets.ContainsKey(t) && t != ToolsetDefinition.Builtin))
            {
                throw reader.Error(node, $"agents.{name}.tools", $"unknown toolset '{tool}'; define it under 'toolsets'");
            }

            foreach (var sub in agent.SubAgents.Where(s => !agents.ContainsKey(s) || s == name))
            {
                throw reader.Error(node, $"agents.{name}.subAgents", $"'{sub}' is not another agent of this file");
            }
        }

        return new AppDefinition(appName, file, models, agents, toolsets, permissions);
    }

    private static ModelDefinition ReadModel(Reader reader, YamlMappingNode node, string path, string name)
    {
        reader.OnlyKeys(node, path, "provider", "model", "baseUrl", "apiKeyEnv", "price", "script", "chunkDelayMs", "timeoutSeconds");
        var provider = reader.RequiredString(node, path, "provider");
        if (!Providers.Contains(provider))
        {
            throw reader.Error(node, path + ".provider", $"'{provider}' is not a provider; use one of {string.Join(", ", Providers)}");
        }

        var model = reader.OptionalString(node, path, "model") ?? (provider == "openai"
            ? throw reader.Error(node, path + ".model", "required for provider 'openai'")
            : name);
        var baseUrl = reader.OptionalString(node, path, "baseUrl");
        if (baseUrl is not null && !Uri.TryCreate(baseUrl, UriKind.Absolute, out _))
        {
            throw reader.Error(node, path + ".baseUrl", $"'{baseUrl}' is not an absolute URL");
        }

        decimal inputPrice = 0, outputPrice = 0;
        if (reader.Optional<YamlMappingNode>(node, path, "price") is { } price)
        {
            reader.OnlyKeys(price, path + ".price", "inputPerMTok", "outputPerMTok");
            inputPrice = reader.OptionalNumber(price, path + ".price", "inputPerMTok") ?? 0;
            outputPrice = reader.OptionalNumber(price, path + ".price", "outputPerMTok") ?? 0;
        }

        var script = reader.Optional<YamlSequenceNode>(node, path, "script") is { } steps
            ? steps.Children.Select((step, i) => ReadStep(reader, step, $"{path}.script[{i}]")).ToList()
            : [];
        if (provider == "scripted" && script.Count == 0)
        {
            throw reader.Error(node, path + ".script", "a scripted model needs at least one step");
        }

        return new ModelDefinition(name, provider, model)
        {
            BaseUrl = baseUrl,
            ApiKeyEnv = reader.OptionalString(node, path, "apiKeyEnv"),
            InputPerMTok = inputPrice,
            OutputPerMTok = outputPrice,
            Script = script,
            ChunkDelay = TimeSpan.FromMilliseconds((double)(reader.OptionalNumber(node, path, "chunkDelayMs") ?? 0)),
            Timeout = TimeSpan.FromSeconds((double)(reader.OptionalNumber(node, path, "timeoutSeconds") ?? 120)),
        };
    }

    private static ScriptStep ReadStep(Reader reader, YamlNode node, string path)
    {
        if (node is not YamlMappingNode step)
        {
            throw reader.Error(node, path, "expected a mapping with 'text', 'toolCalls' or 'error'");
        }

        reader.OnlyKeys(step, path, "text", "toolCalls", "error");
        var calls = reader.Optional<YamlSequenceNode>(step, path, "toolCalls") is { } callNodes
            ? callNodes.Children.Select((call, i) => ReadScriptedCall(reader, call, $"{path}.toolCalls[{i}]")).ToList()
            : [];
        return new ScriptStep(reader.OptionalString(step, path, "text"), calls, reader.OptionalString(step, path, "error"));
    }

    private static ScriptedToolCall ReadScriptedCall(Reader reader, YamlNode node, string path)
    {
        if (node is not YamlMappingNode call)
        {
            throw reader.Error(node, path, "expected a mapping with 'name' and 'args'");
        }

        reader.OnlyKeys(call, path, "name", "args");
        var args = call.Children.TryGetValue(new YamlScalarNode("args"), out var argsNode) ? ToJson(argsNode) : "{}";
        return new ScriptedToolCall(reader.RequiredString(call, path, "name"), args);
    }

    private static AgentDefinition ReadAgent(Reader reader, YamlMappingNode node, string path, string name)
    {
        reader.OnlyKeys(node, path, "model", "instruction", "description", "tools", "subAgents", "maxIterations");
        var maxIterations = reader.OptionalNumber(node, path, "maxIterations") ?? 10;
        if (maxIterations is < 1 or > 100 || maxIterations != Math.Floor(maxIterations))
        {
            throw reader.Error(node, path + ".maxIterations", "must be a whole number from 1 to 100");
        }

        return new AgentDefinition(name, reader.RequiredString(node, path, "model"), reader.OptionalString(node, path, "instruction") ?? "")
        {
            Description = reader.OptionalString(node, path, "description"),
            Tools = reader.StringList(node, path, "tools"),
            SubAgents = reader.StringList(node, path, "subAgents"),
            MaxIterations = (int)maxIterations,
        };
    }

    private static ToolsetDefinition ReadToolset(Reader reader, YamlMappingNode node, string path, string name)
    {
        reader.OnlyKeys(node, path, "type", "command", "args", "env");
        var type = reader.RequiredString(node, path, "type");
        if (type is not (ToolsetDefinition.Mcp or ToolsetDefinition.Builtin))
        {
            throw reader.Error(node, path + ".type", $"'{type}' is not a toolset type; use 'mcp' or 'builtin'");
        }

        var env = new Dictionary<string, string>();
        if (reader.Optional<YamlMappingNode>(node, path, "env") is { } envNode)
        {
            foreach (var (key, value) in envNode.Children)
            {
                env[((YamlScalarNode)key).Value ?? ""] = value is YamlScalarNode scalar
                    ? scalar.Value ?? ""
                    : throw reader.Error(value, $"{path}.env", "values must be strings");
            }
        }

        var command = reader.OptionalString(node, path, "command");
        if (type == ToolsetDefinition.Mcp && string.IsNullOrWhiteSpace(command))
        {
            throw reader.Error(node, path + ".command", "an mcp toolset needs the command that starts its server");
        }

        return new ToolsetDefinition(name, type) { Command = command, Args = reader.StringList(node, path, "args"), Env = env };
    }

    private static PermissionRules ReadPermissions(Reader reader, YamlMappingNode node)
    {
        reader.OnlyKeys(node, "permissions", "allow", "ask", "deny");
        return new PermissionRules(
            reader.StringList(node, "permissions", "allow"),
            reader.StringList(node, "permissions", "ask"),
            reader.StringList(node, "permissions", "deny"));
    }

    /// <summary>A YAML node as JSON: mappings become objects, sequences arrays, and plain scalars numbers, booleans or strings.</summary>
    private static string ToJson(YamlNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, node);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());

        static void Write(Utf8JsonWriter writer, YamlNode node)
        {
            switch (node)
            {
                case YamlMappingNode map:
                    writer.WriteStartObject();
                    foreach (var (key, value) in map.Children)
                    {
                        writer.WritePropertyName(((YamlScalarNode)key).Value ?? "");
                        Write(writer, value);
                    }

                    writer.WriteEndObject();
                    break;
                case YamlSequenceNode list:
                    writer.WriteStartArray();
                    foreach (var item in list.Children)
                    {
                        Write(writer, item);
                    }

                    writer.WriteEndArray();
                    break;
                case YamlScalarNode { Style: ScalarStyle.Plain } scalar when scalar.Value is "true" or "false":
                    writer.WriteBooleanValue(scalar.Value == "true");
                    break;
                case YamlScalarNode { Style: ScalarStyle.Plain } scalar when scalar.Value is "null" or "~" or "":
                    writer.WriteNullValue();
                    break;
                case YamlScalarNode { Style: ScalarStyle.Plain } scalar
                    when decimal.TryParse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number):
                    writer.WriteNumberValue(number);
                    break;
                case YamlScalarNode scalar:
                    writer.WriteStringValue(scalar.Value);
                    break;
            }
        }
    }

    /// <summary>Typed access to YAML nodes that turns every mismatch into an <see cref="AgentFileException"/>.</summary>
    private sealed class Reader(string file)
    {
        public AgentFileException Error(YamlNode node, string field, string problem) =>
            new(file, node.Start.Line, field.TrimStart('.'), problem);

        public void OnlyKeys(YamlMappingNode node, string path, params string[] allowed)
        {
            foreach (var key in node.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? "";
                if (!allowed.Contains(name))
                {
                    throw Error(key, $"{path}.{name}", $"unknown field; expected one of {string.Join(", ", allowed)}");
                }
            }
        }

        public T? Optional<T>(YamlMappingNode node, string path, string key) where T : YamlNode
        {
            if (!node.Children.TryGetValue(new YamlScalarNode(key), out var value))
            {
                return null;
            }

            return value as T ?? throw Error(value, $"{path}.{key}", $"expected {Describe<T>()}");
        }

        public T Required<T>(YamlMappingNode node, string path, string key) where T : YamlNode =>
            Optional<T>(node, path, key) ?? throw Error(node, $"{path}.{key}", "required");

        public string? OptionalString(YamlMappingNode node, string path, string key) => Optional<YamlScalarNode>(node, path, key)?.Value;

        public string RequiredString(YamlMappingNode node, string path, string key) =>
            OptionalString(node, path, key) is { Length: > 0 } value ? value : throw Error(node, $"{path}.{key}", "required");

        public decimal? OptionalNumber(YamlMappingNode node, string path, string key)
        {
            if (Optional<YamlScalarNode>(node, path, key) is not { } scalar)
            {
                return null;
            }

            return decimal.TryParse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= 0
                ? number
                : throw Error(scalar, $"{path}.{key}", $"'{scalar.Value}' is not a non-negative number");
        }

        public IReadOnlyList<string> StringList(YamlMappingNode node, string path, string key) =>
            Optional<YamlSequenceNode>(node, path, key) is { } list
                ? list.Children.Select(item => item is YamlScalarNode { Value: { Length: > 0 } value }
                    ? value
                    : throw Error(item, $"{path}.{key}", "items must be non-empty strings")).ToList()
                : [];

        public Dictionary<string, T> Entries<T>(YamlMappingNode node, string path, Func<Reader, YamlMappingNode, string, string, T> read)
        {
            var entries = new Dictionary<string, T>(StringComparer.Ordinal);
            foreach (var (key, value) in node.Children)
            {
                var name = (key as YamlScalarNode)?.Value ?? "";
                if (!Ids.IsValid(name))
                {
                    throw Error(key, $"{path}.{name}", "names are 1-128 characters of letters, digits and . _ : @ -");
                }

                entries[name] = value is YamlMappingNode entry
                    ? read(this, entry, $"{path}.{name}", name)
                    : throw Error(value, $"{path}.{name}", "expected a mapping");
            }

            return entries;
        }

        private static string Describe<T>() =>
            typeof(T) == typeof(YamlMappingNode) ? "a mapping" : typeof(T) == typeof(YamlSequenceNode) ? "a list" : "a single value";
    }
}
