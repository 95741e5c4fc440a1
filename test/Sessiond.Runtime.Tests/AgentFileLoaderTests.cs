using Sessiond.Runtime.Agents;
using Shouldly;

namespace Sessiond.Runtime.Tests;

public sealed class AgentFileLoaderTests
{
    private const string Valid = """
        models:
          fast:
            provider: openai
            model: gpt-4o-mini
            baseUrl: http://127.0.0.1:11434/v1
            apiKeyEnv: OPENAI_API_KEY
            price: {inputPerMTok: 0.15, outputPerMTok: 0.6}
          demo:
            provider: scripted
            script:
              - toolCalls: [{name: set_state, args: {key: color, value: blue, n: 3}}]
              - text: Done.
        agents:
          root:
            model: fast
            instruction: Be brief.
            tools: [builtin, files]
            subAgents: [helper]
            maxIterations: 4
          helper: {model: demo, description: Helps.}
        toolsets:
          files: {type: mcp, command: dotnet, args: [server.dll], env: {MODE: test}}
        permissions: {allow: ["get_*"], ask: [set_state], deny: [rm]}
        """;

    [Fact]
    public void A_valid_file_reads_every_field()
    {
        var app = AgentFileLoader.Parse("demo", "agents/demo.yaml", Valid);

        app.Models["fast"].BaseUrl.ShouldBe("http://127.0.0.1:11434/v1");
        app.Models["fast"].InputPerMTok.ShouldBe(0.15m);
        app.Models["fast"].OutputPerMTok.ShouldBe(0.6m);
        app.Models["demo"].Model.ShouldBe("demo");
        app.Models["demo"].Script[0].ToolCalls[0].ArgsJson.ShouldBe("""{"key":"color","value":"blue","n":3}""");
        app.Models["demo"].Script[1].Text.ShouldBe("Done.");
        app.Agents["root"].Tools.ShouldBe(["builtin", "files"]);
        app.Agents["root"].MaxIterations.ShouldBe(4);
        app.Agents["helper"].MaxIterations.ShouldBe(10);
        app.Toolsets["files"].Env["MODE"].ShouldBe("test");
        app.Permissions.Ask.ShouldBe(["set_state"]);
    }

    [Theory]
    [InlineData("models: {m: {provider: echo}}\nagents: {root: {model: nope}}", 2, "agents.root.model", "unknown model 'nope'")]
    [InlineData("models: {m: {provider: echo}}\nagents:\n  root:\n    model: m\n    colour: red", 5, "agents.root.colour", "unknown field")]
    [InlineData("models: {m: {provider: gpt}}\nagents: {root: {model: m}}", 1, "models.m.provider", "'gpt' is not a provider")]
    [InlineData("models: {m: {provider: echo}}\nagents: {helper: {model: m}}", 2, "agents", "an agent named 'root' is required")]
    [InlineData("models: {m: {provider: echo}}\nagents: {root: {model: m, maxIterations: 0}}", 2, "agents.root.maxIterations", "whole number")]
    [InlineData("models: {m: {provider: echo}}\nagents: {root: {model: m, tools: [x]}}", 2, "agents.root.tools", "unknown toolset 'x'")]
    [InlineData("models: {m: {provider: echo}}\nagents: {root: {model: m}}\ntoolsets: {t: {type: mcp}}", 3, "toolsets.t.command", "needs the command")]
    [InlineData("models: [1, 2]\nagents: {}", 1, "models", "expected a mapping")]
    [InlineData("models: {m: {provider: echo}}\nagents: {", 3, "(document)", "")]
    [InlineData("models: {m: {provider: echo}\nagents: x", 2, "(document)", "")]
    public void An_invalid_file_names_the_file_line_and_field(string yaml, int line, string field, string problem)
    {
        var error = Should.Throw<AgentFileException>(() => AgentFileLoader.Parse("bad", "agents/bad.yaml", yaml));

        error.File.ShouldBe("agents/bad.yaml");
        error.Line.ShouldBe(line);
        error.Field.ShouldBe(field);
        error.Problem.ShouldContain(problem);
        error.Message.ShouldStartWith($"agents/bad.yaml:{line}: {field}: ");
    }

    [Fact]
    public void The_catalog_keeps_valid_files_reports_invalid_ones_and_always_has_echo()
    {
        var directory = Directory.CreateTempSubdirectory("agents-");
        try
        {
            File.WriteAllText(Path.Combine(directory.FullName, "good.yaml"), "models: {m: {provider: echo}}\nagents: {root: {model: m}}");
            File.WriteAllText(Path.Combine(directory.FullName, "broken.yaml"), "models: {m: {provider: echo}}\nagents: {root: {model: x}}");

            var catalog = AgentCatalog.Load(directory.FullName);

            catalog.AppNames.ShouldBe(["echo", "good"]);
            catalog.Errors.Single().File.ShouldEndWith("broken.yaml");
            catalog.Find("echo")!.Agents["root"].Model.ShouldBe("echo");
            catalog.Find("broken").ShouldBeNull();
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
