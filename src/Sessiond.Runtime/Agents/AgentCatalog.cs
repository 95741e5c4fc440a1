namespace Sessiond.Runtime.Agents;

/// <summary>
/// Every app that can run turns: the built-in <c>echo</c> app plus one per valid <c>*.yaml</c> file of the agents
/// directory. An invalid file is left out and reported in <see cref="Errors"/>; the other apps still load.
/// </summary>
public sealed class AgentCatalog
{
    /// <summary>The app that needs no file and no network: its root agent repeats the user's text.</summary>
    public const string EchoApp = "echo";

    private readonly Dictionary<string, AppDefinition> _apps;

    private AgentCatalog(Dictionary<string, AppDefinition> apps, IReadOnlyList<AgentFileException> errors)
    {
        _apps = apps;
        Errors = errors;
    }

    /// <summary>The files that could not be used, each naming its file, line and field.</summary>
    public IReadOnlyList<AgentFileException> Errors { get; }

    /// <summary>App names in order.</summary>
    public IReadOnlyList<string> AppNames => [.. _apps.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The app, or null when neither a file nor a built-in defines it.</summary>
    public AppDefinition? Find(string appName) => _apps.GetValueOrDefault(appName);

    /// <summary>Loads every <c>*.yaml</c> and <c>*.yml</c> file of <paramref name="directory"/>; a missing directory holds none.</summary>
    public static AgentCatalog Load(string directory)
    {
        var apps = new Dictionary<string, AppDefinition>(StringComparer.Ordinal) { [EchoApp] = Echo };
        var errors = new List<AgentFileException>();
        if (Directory.Exists(directory))
        {
            var files = Directory.EnumerateFiles(directory, "*.yaml").Concat(Directory.EnumerateFiles(directory, "*.yml"));
            foreach (var file in files.Order(StringComparer.Ordinal))
            {
                var appName = Path.GetFileNameWithoutExtension(file);
                try
                {
                    if (!Core.Validation.Ids.IsValid(appName))
                    {
                        throw new AgentFileException(file, 1, "(file name)", "the file name must be a valid app id");
                    }

                    apps[appName] = AgentFileLoader.Parse(appName, file, File.ReadAllText(file));
                }
                catch (AgentFileException e)
                {
                    errors.Add(e);
                }
            }
        }

        return new AgentCatalog(apps, errors);
    }

    /// <summary>Builds a catalog from definitions already in hand (tests, embedding).</summary>
    public static AgentCatalog Of(params AppDefinition[] apps) =>
        new(apps.Prepend(Echo).ToDictionary(a => a.Name, StringComparer.Ordinal), []);

    private static AppDefinition Echo { get; } = new(
        EchoApp,
        "(built in)",
        new Dictionary<string, ModelDefinition> { ["echo"] = new("echo", "echo", "echo") },
        new Dictionary<string, AgentDefinition>
        {
            [AppDefinition.RootAgent] = new(AppDefinition.RootAgent, "echo", "Repeat the user's words.")
            {
                Description = "Repeats what you say, streamed word by word. Needs no network.",
            },
        },
        new Dictionary<string, ToolsetDefinition>(),
        PermissionRules.None);
}
