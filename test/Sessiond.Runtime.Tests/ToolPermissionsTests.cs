using Sessiond.Core.Sessions;
using Sessiond.Runtime.Agents;
using Sessiond.Runtime.Tools;
using Shouldly;

namespace Sessiond.Runtime.Tests;

public sealed class ToolPermissionsTests
{
    [Theory]
    [InlineData("get_*", "get_state", true)]
    [InlineData("get_*", "set_state", false)]
    [InlineData("*", "anything", true)]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "ac", false)]
    [InlineData("*_state", "get_state", true)]
    [InlineData("files.*.read", "files.x.read", true)]
    [InlineData("exact", "exact", true)]
    [InlineData("exact", "exactly", false)]
    public void Globs_match_whole_tool_names(string pattern, string name, bool matches) =>
        ToolPermissions.Glob(pattern, name).ShouldBe(matches);

    [Fact]
    public void Deny_wins_then_allow_then_ask_and_unnamed_tools_run()
    {
        var app = new PermissionRules(Allow: ["get_state"], Ask: ["*"], Deny: ["rm*"]);

        ToolPermissions.Decide("rm_all", app, SessionPermissions.Empty).ShouldBe(ToolDecision.Deny);
        ToolPermissions.Decide("get_state", app, SessionPermissions.Empty).ShouldBe(ToolDecision.Allow);
        ToolPermissions.Decide("set_state", app, SessionPermissions.Empty).ShouldBe(ToolDecision.Ask);
        ToolPermissions.Decide("set_state", app, new SessionPermissions(["set_state"], [], [])).ShouldBe(ToolDecision.Allow);
        ToolPermissions.Decide("rm_all", app, new SessionPermissions(["rm_all"], [], [])).ShouldBe(ToolDecision.Deny);
        ToolPermissions.Decide("x", PermissionRules.None, SessionPermissions.Empty).ShouldBe(ToolDecision.Allow);
    }
}
