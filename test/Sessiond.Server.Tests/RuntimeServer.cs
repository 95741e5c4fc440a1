namespace Sessiond.Server.Tests;

/// <summary>
/// A server with an agents directory of scripted apps, one per behaviour the runtime tests need. Every app runs offline.
/// </summary>
public sealed class RuntimeServer : SessiondServer
{
    public RuntimeServer()
    {
        AgentsDir = WriteAgents();
    }

    public string AgentsDir { get; }

    protected override string[] ExtraArgs => ["--agents-dir", AgentsDir];

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(AgentsDir, recursive: true);
    }

    /// <summary>Writes the test apps into a fresh directory and returns it.</summary>
    public static string WriteAgents()
    {
        var directory = Directory.CreateTempSubdirectory("sessiond-agents-").FullName;
        foreach (var (app, yaml) in Apps)
        {
            File.WriteAllText(Path.Combine(directory, app + ".yaml"), yaml);
        }

        return directory;
    }

    private static readonly Dictionary<string, string> Apps = new()
    {
        // Sets state through a tool that needs approval, then answers.
        ["approve"] = """
            models:
              demo:
                provider: scripted
                price: {inputPerMTok: 1000, outputPerMTok: 2000}
                script:
                  - toolCalls: [{name: set_state, args: {key: color, value: blue}}]
                  - text: The color is blue.
            agents:
              root: {model: demo, instruction: Set the color., tools: [builtin]}
            permissions: {ask: [set_state]}
            """,
        // Writes a temp: key, reads it back in the same turn, then answers.
        ["temp"] = """
            models:
              demo:
                provider: scripted
                script:
                  - toolCalls: [{name: set_state, args: {key: "temp:scratch", value: 42}}, {name: set_state, args: {key: kept, value: yes}}]
                  - toolCalls: [{name: get_state, args: {key: "temp:scratch"}}]
                  - text: Done.
            agents:
              root: {model: demo, tools: [builtin]}
            """,
        // Streams a long reply slowly, then calls a tool, then answers: room to steer, cancel and race.
        ["slow"] = """
            models:
              demo:
                provider: scripted
                chunkDelayMs: 40
                script:
                  - text: "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty twenty-one twenty-two twenty-three twenty-four twenty-five"
                    toolCalls: [{name: current_time, args: {}}]
                  - text: finished
              quick: {provider: echo}
            agents:
              root: {model: demo, tools: [builtin]}
            """,
        // Fails on its first model call.
        ["failing"] = """
            models:
              demo:
                provider: scripted
                script:
                  - error: model_rate_limited
            agents:
              root: {model: demo}
            """,
        // Never stops calling tools.
        ["looping"] = """
            models:
              demo:
                provider: scripted
                script:
                  - toolCalls: [{name: current_time, args: {}}]
                  - toolCalls: [{name: current_time, args: {}}]
                  - toolCalls: [{name: current_time, args: {}}]
            agents:
              root: {model: demo, tools: [builtin], maxIterations: 2}
            """,
        // A tool the permissions deny.
        ["denied"] = """
            models:
              demo:
                provider: scripted
                script:
                  - toolCalls: [{name: set_state, args: {key: color, value: red}}]
                  - text: Could not.
            agents:
              root: {model: demo, tools: [builtin]}
            permissions: {deny: ["set_*"]}
            """,
    };
}
