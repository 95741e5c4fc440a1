using System.Reflection;
using Sessiond.Core.Access;
using Sessiond.Core.Errors;
using Sessiond.Core.Sessions;
using Sessiond.Core.Validation;
using Sessiond.Runtime.Agents;
using Sessiond.Runtime.Turns;
using Sessiond.Server.Auth;
using Sessiond.Server.Http;

namespace Sessiond.Server.Adk;

/// <summary>
/// The routes the ADK web UI calls besides sessions and runs: the apps to chat with, the server version, an app's
/// agent graph, and a session's trace. The graph routes answer at ADK 2's <c>/dev/apps/{app}/...</c> paths and at the
/// older <c>/dev/build_graph[_image]/{app}</c> ones, since UI builds of both generations are in use.
/// </summary>
public static class AdkDevApi
{
    private static readonly string ServerVersion = (typeof(AdkDevApi).Assembly
        .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapGet("/list-apps", ListApps);
        group.MapGet("/version", Version);
        group.MapGet("/dev/apps/{app}/build_graph", BuildGraph);
        group.MapGet("/dev/build_graph/{app}", BuildGraph);
        group.MapGet("/dev/apps/{app}/build_graph_image", BuildGraphImage);
        group.MapGet("/dev/build_graph_image/{app}", BuildGraphImage);
        group.MapGet("/debug/trace/session/{sessionId}", TraceAsync);
        group.MapGet("/dev/apps/{app}/debug/trace/session/{sessionId}", AppTraceAsync);
    }

    /// <summary>
    /// The apps that have agents and the caller may use, as the UI offers them to chat with (<c>relative_path</c> is
    /// ignored). With <c>detailed=true</c>, ADK's <c>{apps: [{name, root_agent_name, description, language, is_computer_use}]}</c>.
    /// </summary>
    public static IResult ListApps(HttpContext context, AgentCatalog catalog, bool? detailed)
    {
        var caller = context.Caller();
        var apps = catalog.AppNames.Where(app => AccessPolicy.MaySeeApp(caller, app)).ToList();
        if (detailed != true)
        {
            return TypedResults.Json(apps, ServerJsonContext.Default.ListString);
        }

        var infos = apps.Select(name => catalog.Find(name)!).Select(app => new AdkAppInfo(
            app.Name, AppDefinition.RootAgent, AdkAgentGraph.Root(app).Description ?? "", "yaml", IsComputerUse: false)).ToList();
        return TypedResults.Json(new AdkAppList(infos), ServerJsonContext.Default.AdkAppList);
    }

    /// <summary>ADK's <c>{version, language, language_version}</c>, truthfully: Sessiond's version on .NET.</summary>
    public static IResult Version() =>
        TypedResults.Json(new AdkVersion(ServerVersion, "dotnet", Environment.Version.ToString()), ServerJsonContext.Default.AdkVersion);

    /// <summary>The agent tree: <c>{name, root_agent: {name, description, model, instruction, tools, sub_agents}}</c>.</summary>
    public static IResult BuildGraph(string app, HttpContext context, AgentCatalog catalog)
    {
        var definition = RequireApp(context, catalog, app);
        return new AdkJsonResult(writer => AdkAgentGraph.WriteTree(writer, definition));
    }

    /// <summary>
    /// DOT source of the agent graph. With <c>node</c> (a path of sub-agent names): that level, as <c>{dotSrc}</c>. Without
    /// it: every level the UI can open, keyed by path (<c>""</c> is the root), plus the root's own <c>dotSrc</c>, so
    /// readers of either ADK shape find it.
    /// </summary>
    public static IResult BuildGraphImage(string app, HttpContext context, AgentCatalog catalog, bool? dark_mode, string? node)
    {
        var definition = RequireApp(context, catalog, app);
        var darkMode = dark_mode ?? false;
        if (!string.IsNullOrEmpty(node))
        {
            var agent = AdkAgentGraph.Resolve(definition, node)
                ?? throw new SessiondException(ErrorKind.NotFound, ErrorCodes.NotFound, $"Agent not found: {SessionErrors.Printable(node)}");
            var dot = AdkAgentGraph.Dot(definition, agent, darkMode);
            return new AdkJsonResult(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("dotSrc", dot);
                writer.WriteEndObject();
            });
        }

        var levels = AdkAgentGraph.Levels(definition).Select(l => (l.Path, Dot: AdkAgentGraph.Dot(definition, l.Agent, darkMode))).ToList();
        return new AdkJsonResult(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("dotSrc", levels[0].Dot);
            foreach (var (path, dot) in levels)
            {
                writer.WriteStartObject(path);
                writer.WriteString("dotSrc", dot);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        });
    }

    /// <summary>The spans of the session's recent turns, as ADK lists them.</summary>
    public static async Task<IResult> TraceAsync(string sessionId, HttpContext context, SessionService sessions, TraceRecorder traces)
    {
        var session = await sessions.FindAsync(context.Caller(), sessionId, context.RequestAborted) ?? throw SessionErrors.SessionNotFound(sessionId);
        return Spans(session, traces);
    }

    /// <summary><see cref="TraceAsync"/> under an app; a session of another app is not found.</summary>
    public static async Task<IResult> AppTraceAsync(string app, string sessionId, HttpContext context, SessionService sessions, TraceRecorder traces)
    {
        var session = await sessions.FindAsync(context.Caller(), sessionId, context.RequestAborted);
        return session is not null && session.AppName == app ? Spans(session, traces) : throw SessionErrors.SessionNotFound(sessionId);
    }

    private static AdkJsonResult Spans(Session session, TraceRecorder traces)
    {
        var spans = traces.SpansOf(session.Id);
        return new AdkJsonResult(writer => AdkTraceJson.WriteSpans(writer, session.Id, spans));
    }

    private static AppDefinition RequireApp(HttpContext context, AgentCatalog catalog, string app)
    {
        AccessPolicy.RequireApp(context.Caller(), Ids.Require(app, "app"));
        return catalog.Find(app) ?? throw new SessiondException(ErrorKind.NotFound, ErrorCodes.NotFound, $"App not found: {SessionErrors.Printable(app)}");
    }
}
