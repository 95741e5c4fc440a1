namespace Sessiond.Runtime.Agents;

/// <summary>An agent file that cannot be used; the message names the file, the line and the field.</summary>
public sealed class AgentFileException(string file, long line, string field, string problem)
    : Exception($"{file}:{line}: {field}: {problem}")
{
    public string File { get; } = file;

    public long Line { get; } = line;

    public string Field { get; } = field;

    public string Problem { get; } = problem;
}
