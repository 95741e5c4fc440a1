using System.Net;
using System.Text.Json;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>The ADK web UI's other routes: list-apps, version, the agent graph and session traces.</summary>
public sealed class AdkDevTests(AdkAgentsServer server) : IClassFixture<AdkAgentsServer>
{
    private readonly HttpClient _http = server.Http;

    private static List<string> Names(JsonElement agents) => [.. agents.EnumerateArray().Select(a => a.GetProperty("name").GetString()!)];

    [Theory]
    [InlineData("/list-apps?relative_path=./")]
    [InlineData("/api/list-apps")]
    public async Task List_apps_names_the_apps_with_agents(string path)
    {
        var apps = await (await _http.GetAsync(path)).ShouldBeJsonAsync(HttpStatusCode.OK);

        apps.EnumerateArray().Select(a => a.GetString()).ShouldBe(["echo", AdkAgentsServer.SlowApp, AdkAgentsServer.TeamApp]);
    }

    [Fact]
    public async Task List_apps_in_detail_speaks_ADKs_app_info()
    {
        var detailed = await (await _http.GetAsync("/list-apps?detailed=true")).ShouldBeJsonAsync(HttpStatusCode.OK);

        var team = detailed.GetProperty("apps").EnumerateArray().Single(a => a.GetProperty("name").GetString() == AdkAgentsServer.TeamApp);
        team.GetProperty("root_agent_name").GetString().ShouldBe("root");
        team.GetProperty("description").GetString().ShouldBe("Hands work to the planner and the writer.");
        team.GetProperty("language").GetString().ShouldBe("yaml");
        team.GetProperty("is_computer_use").GetBoolean().ShouldBeFalse();
    }

    [Theory]
    [InlineData("/version")]
    [InlineData("/api/version")]
    public async Task Version_says_what_runs_truthfully(string path)
    {
        var version = await (await _http.GetAsync(path)).ShouldBeJsonAsync(HttpStatusCode.OK);

        version.EnumerateObject().Select(p => p.Name).ShouldBe(["version", "language", "language_version"]);
        version.GetProperty("version").GetString().ShouldNotBeNullOrEmpty();
        version.GetProperty("language").GetString().ShouldBe("dotnet");
        version.GetProperty("language_version").GetString().ShouldBe(Environment.Version.ToString());
    }

    [Theory]
    [InlineData("/dev/apps/echo/build_graph")]
    [InlineData("/dev/build_graph/echo")]
    [InlineData("/api/dev/apps/echo/build_graph")]
    public async Task Build_graph_of_echo_is_one_agent_without_tools(string path)
    {
        var graph = await (await _http.GetAsync(path)).ShouldBeJsonAsync(HttpStatusCode.OK);

        graph.GetProperty("name").GetString().ShouldBe("echo");
        var root = graph.GetProperty("root_agent");
        root.GetProperty("name").GetString().ShouldBe("root");
        root.GetProperty("model").GetString().ShouldBe("echo");
        root.GetProperty("sub_agents").GetArrayLength().ShouldBe(0);
        root.GetProperty("tools").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task Build_graph_of_a_yaml_app_has_its_sub_agents_and_tools()
    {
        var graph = await (await _http.GetAsync("/dev/apps/team/build_graph")).ShouldBeJsonAsync(HttpStatusCode.OK);

        var root = graph.GetProperty("root_agent");
        root.GetProperty("description").GetString().ShouldBe("Hands work to the planner and the writer.");
        Names(root.GetProperty("sub_agents")).ShouldBe(["planner", "writer"]);
        Names(root.GetProperty("tools")).ShouldBe(["get_state", "set_state", "current_time"]);
        root.GetProperty("tools").EnumerateArray().ShouldAllBe(t => t.GetProperty("toolset").GetString() == "kit" && t.GetProperty("type").GetString() == "builtin");
        var planner = root.GetProperty("sub_agents")[0];
        Names(planner.GetProperty("sub_agents")).ShouldBe(["researcher"]);
        var search = planner.GetProperty("tools").EnumerateArray().Single();
        (search.GetProperty("name").GetString(), search.GetProperty("type").GetString()).ShouldBe(("search", "mcp"));
        planner.GetProperty("sub_agents")[0].GetProperty("sub_agents").GetArrayLength().ShouldBe(0);
    }

    [Theory]
    [InlineData("/dev/apps/team/build_graph_image?dark_mode=false")]
    [InlineData("/dev/build_graph_image/team?dark_mode=false")]
    [InlineData("/api/dev/apps/team/build_graph_image")]
    public async Task Build_graph_image_keys_every_level_by_path_and_gives_the_roots_dot_source(string path)
    {
        var image = await (await _http.GetAsync(path)).ShouldBeJsonAsync(HttpStatusCode.OK);

        image.EnumerateObject().Select(p => p.Name).ShouldBe(["dotSrc", "", "planner"]);
        var root = image.GetProperty("dotSrc").GetString()!;
        image.GetProperty("").GetProperty("dotSrc").GetString().ShouldBe(root);
        root.ShouldStartWith("digraph ");
        foreach (var name in new[] { "\"root\"", "\"planner\"", "\"writer\"", "\"researcher\"", "get_state", "search" })
        {
            root.ShouldContain(name);
        }

        var planner = image.GetProperty("planner").GetProperty("dotSrc").GetString()!;
        planner.ShouldContain("\"researcher\"");
        planner.ShouldNotContain("\"writer\"");
    }

    [Fact]
    public async Task Build_graph_image_of_one_node_is_its_bare_dot_source_and_follows_the_theme()
    {
        var node = await (await _http.GetAsync("/dev/apps/team/build_graph_image?node=planner&dark_mode=true")).ShouldBeJsonAsync(HttpStatusCode.OK);
        node.EnumerateObject().Select(p => p.Name).ShouldBe(["dotSrc"]);
        node.GetProperty("dotSrc").GetString()!.ShouldContain("\"researcher\"");
        (await (await _http.GetAsync("/dev/apps/team/build_graph_image?node=root/planner@1/researcher")).ShouldBeJsonAsync(HttpStatusCode.OK))
            .GetProperty("dotSrc").GetString()!.ShouldNotContain("\"planner\"");

        var dark = (await (await _http.GetAsync("/dev/apps/echo/build_graph_image?dark_mode=true")).ShouldBeJsonAsync(HttpStatusCode.OK)).GetProperty("dotSrc").GetString();
        var light = (await (await _http.GetAsync("/dev/apps/echo/build_graph_image?dark_mode=false")).ShouldBeJsonAsync(HttpStatusCode.OK)).GetProperty("dotSrc").GetString();
        dark.ShouldNotBe(light);
        dark!.ShouldContain("bgcolor=");
    }

    [Theory]
    [InlineData("/dev/apps/team/build_graph_image?node=nobody", "Agent not found: nobody")]
    [InlineData("/dev/apps/nothing-here/build_graph_image", "App not found: nothing-here")]
    [InlineData("/dev/apps/nothing-here/build_graph", "App not found: nothing-here")]
    public async Task Unknown_apps_and_nodes_are_404_in_ADKs_shape(string path, string detail)
    {
        var body = await (await _http.GetAsync(path)).ShouldBeJsonAsync(HttpStatusCode.NotFound);

        body.GetProperty("detail").GetString().ShouldBe(detail);
    }

    [Fact]
    public async Task Build_graph_image_with_a_bad_dark_mode_is_a_client_error()
    {
        var response = await _http.GetAsync("/dev/apps/team/build_graph_image?dark_mode=maybe");

        ((int)response.StatusCode).ShouldBeInRange(400, 499);
    }

    [Theory]
    [InlineData("/debug/trace/session/{0}")]
    [InlineData("/dev/apps/echo/debug/trace/session/{0}")]
    [InlineData("/api/debug/trace/session/{0}")]
    public async Task The_trace_of_a_turn_has_the_turn_span_and_its_model_calls(string template)
    {
        var user = SessiondServer.NewId("u");
        var id = SessiondServer.NewId("trace");
        await _http.PostJsonAsync($"/apps/echo/users/{user}/sessions", $$"""{"sessionId":"{{id}}"}""");
        var empty = await (await _http.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, template, id))).ShouldBeJsonAsync(HttpStatusCode.OK);
        empty.GetArrayLength().ShouldBe(0);
        var run = await (await _http.PostJsonAsync("/run",
            $$$"""{"appName":"echo","userId":"{{{user}}}","sessionId":"{{{id}}}","newMessage":{"role":"user","parts":[{"text":"trace me"}]}}"""))
            .ShouldBeJsonAsync(HttpStatusCode.OK);

        var spans = await (await _http.GetAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, template, id))).ShouldBeJsonAsync(HttpStatusCode.OK);

        var turn = spans.EnumerateArray().Single(s => s.GetProperty("parent_span_id").ValueKind == JsonValueKind.Null);
        turn.GetProperty("name").GetString()!.ShouldStartWith("invocation");
        turn.EnumerateObject().Select(p => p.Name).ShouldBe(["name", "span_id", "trace_id", "start_time", "end_time", "attributes", "parent_span_id"]);
        var calls = spans.EnumerateArray().Where(s => s.GetProperty("name").GetString() == "call_llm").ToList();
        calls.ShouldNotBeEmpty();
        foreach (var call in calls)
        {
            call.GetProperty("parent_span_id").GetRawText().ShouldBe(turn.GetProperty("span_id").GetRawText());
            call.GetProperty("trace_id").GetRawText().ShouldBe(turn.GetProperty("trace_id").GetRawText());
            call.GetProperty("span_id").ValueKind.ShouldBe(JsonValueKind.Number);
            call.GetProperty("start_time").GetInt64().ShouldBeGreaterThanOrEqualTo(turn.GetProperty("start_time").GetInt64());
            call.GetProperty("end_time").GetInt64().ShouldBeLessThanOrEqualTo(turn.GetProperty("end_time").GetInt64());
            call.GetProperty("attributes").GetProperty("gcp.vertex.agent.invocation_id").GetString()
                .ShouldBe(run[0].GetProperty("invocationId").GetString());
        }

        // Nanoseconds since the Unix epoch, as OpenTelemetry's span times in ADK's answer.
        var startedAt = DateTimeOffset.UnixEpoch.AddTicks(turn.GetProperty("start_time").GetInt64() / 100);
        (DateTimeOffset.UtcNow - startedAt).ShouldBeLessThan(TimeSpan.FromMinutes(5));
        turn.GetProperty("attributes").GetProperty("gcp.vertex.agent.session_id").GetString().ShouldBe(id);
    }

    [Fact]
    public async Task The_trace_of_a_missing_session_or_one_of_another_app_is_404()
    {
        (await (await _http.GetAsync($"/debug/trace/session/{SessiondServer.NewId("none")}")).ShouldBeJsonAsync(HttpStatusCode.NotFound))
            .GetProperty("detail").GetString().ShouldBe("Session not found");
        var id = SessiondServer.NewId("trace");
        await _http.PostJsonAsync($"/apps/echo/users/u/sessions", $$"""{"sessionId":"{{id}}"}""");
        (await _http.GetAsync($"/dev/apps/team/debug/trace/session/{id}")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}
