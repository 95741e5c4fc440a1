using System.Text;
using System.Text.Json;
using Sessiond.Runtime.Agents;
using Sessiond.Runtime.Tools;

namespace Sessiond.Server.Adk;

/// <summary>
/// An app's agent tree as the ADK web UI draws it: the tree itself (<c>build_graph</c>: agents, their sub-agents and
/// tools) and Graphviz DOT source for one level of it (<c>build_graph_image</c>). The UI addresses a level by the
/// path of sub-agent names below the root, such as <c>planner/writer</c>.
/// </summary>
public static class AdkAgentGraph
{
    /// <summary>How many agents one drawing or tree holds at most; sub-agents may form cycles, and files may be large.</summary>
    private const int MaxNodes = 500;

    private static readonly string[] BuiltinToolNames = [.. new BuiltinTools().Tools.Select(t => t.Name)];

    /// <summary>The root agent.</summary>
    public static AgentDefinition Root(AppDefinition app) => app.Agents[AppDefinition.RootAgent];

    /// <summary>
    /// The agent at <paramref name="path"/> (sub-agent names joined by <c>/</c>, the root's own name allowed first, and
    /// the <c>@n</c> suffixes the UI adds to repeated names ignored), or null when no agent is there.
    /// </summary>
    public static AgentDefinition? Resolve(AppDefinition app, string path)
    {
        var agent = Root(app);
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(s => s.Split('@', 2)[0]).ToList();
        if (segments.Count > 0 && segments[0] == agent.Name && !agent.SubAgents.Contains(segments[0]))
        {
            segments.RemoveAt(0);
        }

        foreach (var segment in segments)
        {
            if (!agent.SubAgents.Contains(segment) || !app.Agents.TryGetValue(segment, out var next))
            {
                return null;
            }

            agent = next;
        }

        return agent;
    }

    /// <summary>Every level the UI can open, by path: <c>""</c> for the root, then each agent that has sub-agents.</summary>
    public static IReadOnlyList<(string Path, AgentDefinition Agent)> Levels(AppDefinition app)
    {
        var levels = new List<(string, AgentDefinition)>();
        Walk(app, Root(app), "", [], levels);
        return levels;
    }

    private static void Walk(AppDefinition app, AgentDefinition agent, string path, HashSet<string> ancestors, List<(string, AgentDefinition)> levels)
    {
        if (levels.Count >= MaxNodes || (path.Length > 0 && agent.SubAgents.Count == 0))
        {
            return;
        }

        levels.Add((path, agent));
        ancestors.Add(agent.Name);
        foreach (var sub in SubAgentsOf(app, agent).Where(s => !ancestors.Contains(s.Name)))
        {
            Walk(app, sub, path.Length == 0 ? sub.Name : path + "/" + sub.Name, ancestors, levels);
        }

        ancestors.Remove(agent.Name);
    }

    /// <summary>Writes <c>{name, root_agent}</c>, each agent as <c>{name, description?, model, instruction, tools, sub_agents}</c>.</summary>
    public static void WriteTree(Utf8JsonWriter writer, AppDefinition app)
    {
        writer.WriteStartObject();
        writer.WriteString("name", app.Name);
        writer.WritePropertyName("root_agent");
        var count = 0;
        WriteAgent(writer, app, Root(app), [], ref count);
        writer.WriteEndObject();
    }

    private static void WriteAgent(Utf8JsonWriter writer, AppDefinition app, AgentDefinition agent, HashSet<string> ancestors, ref int count)
    {
        count++;
        writer.WriteStartObject();
        writer.WriteString("name", agent.Name);
        if (agent.Description is not null)
        {
            writer.WriteString("description", agent.Description);
        }

        writer.WriteString("model", agent.Model);
        writer.WriteString("instruction", agent.Instruction);
        writer.WriteStartArray("tools");
        foreach (var (name, type, toolset) in ToolsOf(app, agent))
        {
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WriteString("type", type);
            writer.WriteString("toolset", toolset);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();

        // The UI walks sub_agents, so it is always a list; a cycle back to an ancestor ends the walk there.
        writer.WriteStartArray("sub_agents");
        ancestors.Add(agent.Name);
        foreach (var sub in SubAgentsOf(app, agent).Where(s => !ancestors.Contains(s.Name)))
        {
            if (count >= MaxNodes)
            {
                break;
            }

            WriteAgent(writer, app, sub, ancestors, ref count);
        }

        ancestors.Remove(agent.Name);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>DOT source of <paramref name="start"/> and everything below it: agents as ellipses, tools as boxes.</summary>
    public static string Dot(AppDefinition app, AgentDefinition start, bool darkMode)
    {
        var (background, text, agentFill, toolFill, edge) = darkMode
            ? ("#202124", "#e8eaed", "#174ea6", "#3c4043", "#9aa0a6")
            : ("#ffffff", "#202124", "#d2e3fc", "#f1f3f4", "#5f6368");
        var dot = new StringBuilder();
        dot.Append("digraph \"").Append(Escape(app.Name)).Append("\" {\n");
        dot.Append("  graph [bgcolor=\"").Append(background).Append("\", rankdir=LR];\n");
        dot.Append("  node [fontname=\"Helvetica\", fontcolor=\"").Append(text).Append("\", color=\"").Append(edge).Append("\", style=filled];\n");
        dot.Append("  edge [color=\"").Append(edge).Append("\"];\n");
        var drawn = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<AgentDefinition>([start]);
        while (queue.TryDequeue(out var agent) && drawn.Count < MaxNodes)
        {
            if (!drawn.Add(agent.Name))
            {
                continue;
            }

            dot.Append("  \"").Append(Escape(agent.Name)).Append("\" [shape=ellipse, fillcolor=\"").Append(agentFill).Append("\"];\n");
            foreach (var (name, _, toolset) in ToolsOf(app, agent))
            {
                var id = $"{agent.Name}/{toolset}/{name}";
                dot.Append("  \"").Append(Escape(id)).Append("\" [label=\"").Append(Escape(name)).Append("\", shape=box, fillcolor=\"").Append(toolFill).Append("\"];\n");
                dot.Append("  \"").Append(Escape(agent.Name)).Append("\" -> \"").Append(Escape(id)).Append("\";\n");
            }

            foreach (var sub in SubAgentsOf(app, agent))
            {
                dot.Append("  \"").Append(Escape(agent.Name)).Append("\" -> \"").Append(Escape(sub.Name)).Append("\";\n");
                queue.Enqueue(sub);
            }
        }

        return dot.Append("}\n").ToString();
    }

    private static IEnumerable<AgentDefinition> SubAgentsOf(AppDefinition app, AgentDefinition agent) =>
        agent.SubAgents.Select(name => app.Agents.GetValueOrDefault(name)).OfType<AgentDefinition>();

    /// <summary>The agent's tools: each built-in tool by name; an MCP toolset, whose tools are known only once it runs, as itself.</summary>
    private static IEnumerable<(string Name, string Type, string Toolset)> ToolsOf(AppDefinition app, AgentDefinition agent)
    {
        foreach (var toolset in agent.Tools)
        {
            var type = app.Toolsets.GetValueOrDefault(toolset)?.Type ?? ToolsetDefinition.Builtin;
            if (type == ToolsetDefinition.Builtin)
            {
                foreach (var name in BuiltinToolNames)
                {
                    yield return (name, type, toolset);
                }
            }
            else
            {
                yield return (toolset, type, toolset);
            }
        }
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
        .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal);
}
