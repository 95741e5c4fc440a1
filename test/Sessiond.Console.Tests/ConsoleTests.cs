using System.Net.Http.Json;
using Shouldly;
using static Microsoft.Playwright.Assertions;

[assembly: AssemblyFixture(typeof(Sessiond.Console.Tests.ConsoleBrowser))]
[assembly: AssemblyFixture(typeof(Sessiond.Console.Tests.ConsoleServer))]

namespace Sessiond.Console.Tests;

/// <summary>The web console in a real Chromium against the real server: every test uses its own user.</summary>
public sealed class ConsoleTests(ConsoleBrowser browser, ConsoleServer server)
{
    [Fact]
    public async Task The_console_loads_at_the_root_with_a_self_only_policy_and_no_errors()
    {
        // An echo session, so /list-apps has an answer the page visibly uses.
        await server.CreateSessionAsync(server.Http, "echo", ConsoleServer.NewId("other"));
        await using var console = await browser.NewPageAsync(server.BaseAddress);

        var response = await console.Page.GotoAsync("/");

        var headers = await response!.AllHeadersAsync();
        headers["content-security-policy"].ShouldContain("script-src 'self'");
        headers["content-security-policy"].ShouldNotContain("unsafe-inline");
        headers["x-content-type-options"].ShouldBe("nosniff");
        await Expect(console.Page).ToHaveTitleAsync("Sessiond console");
        await Expect(console.Page.GetByLabel("App", new() { Exact = true })).ToHaveValueAsync("echo");
        await Expect(console.Page.GetByLabel("User", new() { Exact = true })).ToHaveValueAsync("console-user");
        await Expect(console.Page.Locator("#feed-state")).ToHaveTextAsync("Live updates on.");
        await Expect(console.Page.Locator("#app-options option[value='echo']")).ToHaveCountAsync(1);
        await Expect(console.Page.Locator("#session-list")).ToHaveAttributeAsync("aria-busy", "false");
        console.Errors.ShouldBeEmpty();
    }

    [Fact]
    public async Task An_echo_turn_streams_its_reply_and_the_session_returns_to_idle()
    {
        var user = ConsoleServer.NewId("user");
        await using var console = await browser.NewPageAsync(server.BaseAddress);
        await console.OpenAsync("echo", user);
        var id = await console.CreateSessionAsync();

        await console.SendAsync("hello world");

        await Expect(console.Log.Locator("li.event.user")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("hello world"));
        await Expect(console.ModelEvents.Filter(new() { HasText = "hello world" })).ToHaveCountAsync(1);
        await Expect(console.Status).ToHaveTextAsync("idle");
        await Expect(console.LiveEvents).ToHaveCountAsync(0);
        await Expect(console.Message).ToHaveValueAsync("");
        // The title the runtime gives after the first turn reaches the list through the feed.
        await Expect(console.SessionRow(id)).ToContainTextAsync("hello world");
        await Expect(console.SessionRow(id).Locator(".badge")).ToHaveTextAsync("idle");
        console.Errors.ShouldBeEmpty();
    }

    [Fact]
    public async Task Deltas_stream_into_a_live_reply_and_cancel_records_an_interrupted_event()
    {
        var user = ConsoleServer.NewId("user");
        await using var console = await browser.NewPageAsync(server.BaseAddress);
        await console.OpenAsync(ConsoleServer.SlowApp, user);
        await console.CreateSessionAsync();

        await console.SendAsync("count");

        // The slow model sends a word every 400 ms: the live reply shows the first words before the turn ends.
        await Expect(console.LiveEvents).ToContainTextAsync("one two");
        await Expect(console.Status).ToHaveTextAsync("running");
        await Expect(console.Button("Steer")).ToBeVisibleAsync();
        await Expect(console.Button("Follow up")).ToBeVisibleAsync();
        await console.Button("Cancel turn").ClickAsync();

        var interrupted = console.Log.Locator("li.event", new() { HasText = "interrupted" });
        await Expect(interrupted).ToHaveCountAsync(1);
        await Expect(interrupted).ToContainTextAsync("one");
        await Expect(console.Status).ToHaveTextAsync("idle");
        await Expect(console.LiveEvents).ToHaveCountAsync(0);
        await Expect(console.Log).Not.ToContainTextAsync("ten");
        await Expect(console.Button("Send")).ToBeVisibleAsync();
        console.Errors.ShouldBeEmpty();
    }

    [Fact]
    public async Task Sessions_created_changed_and_deleted_by_another_client_show_in_the_list_live()
    {
        var user = ConsoleServer.NewId("user");
        await using var console = await browser.NewPageAsync(server.BaseAddress);
        await console.OpenAsync("echo", user);
        await Expect(console.Page.Locator("#session-list-empty")).ToBeVisibleAsync();

        var id = await server.CreateSessionAsync(server.Http, "echo", user, "made elsewhere");

        await Expect(console.SessionRow(id)).ToContainTextAsync("made elsewhere");
        await Expect(console.SessionRow(id).Locator(".badge")).ToHaveTextAsync("idle");

        (await server.Http.PatchAsJsonAsync($"v1/sessions/{id}", new { title = "renamed elsewhere" })).EnsureSuccessStatusCode();
        await Expect(console.SessionRow(id)).ToContainTextAsync("renamed elsewhere");

        // Another user's session in the same app stays out of this user's list.
        var stranger = await server.CreateSessionAsync(server.Http, "echo", ConsoleServer.NewId("stranger"), "not yours");
        (await server.Http.DeleteAsync($"v1/sessions/{id}")).EnsureSuccessStatusCode();
        await Expect(console.SessionRow(id)).ToHaveCountAsync(0);
        await Expect(console.SessionRow(stranger)).ToHaveCountAsync(0);
        console.Errors.ShouldBeEmpty();
    }

    [Fact]
    public async Task An_open_session_deleted_elsewhere_says_so_and_stops_taking_input()
    {
        var user = ConsoleServer.NewId("user");
        await using var console = await browser.NewPageAsync(server.BaseAddress);
        await console.OpenAsync("echo", user);
        var id = await console.CreateSessionAsync();

        (await server.Http.DeleteAsync($"v1/sessions/{id}")).EnsureSuccessStatusCode();

        await Expect(console.Page.GetByText("This session was deleted.")).ToBeVisibleAsync();
        await Expect(console.Message).ToBeDisabledAsync();
        await Expect(console.SessionRow(id)).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_tool_call_that_asks_shows_approval_buttons_and_approving_resumes_the_turn()
    {
        var user = ConsoleServer.NewId("user");
        await using var console = await browser.NewPageAsync(server.BaseAddress);
        await console.OpenAsync(ConsoleServer.ApprovalApp, user);
        await console.CreateSessionAsync();

        await console.SendAsync("set the color");

        await Expect(console.Status).ToHaveTextAsync("waiting");
        var approvals = console.Page.GetByRole(Microsoft.Playwright.AriaRole.Region, new() { Name = "Waiting for your approval" });
        await Expect(approvals).ToContainTextAsync("set_state");
        await Expect(approvals).ToContainTextAsync("\"blue\"");
        await Expect(approvals.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Reject" })).ToBeVisibleAsync();
        await Expect(approvals.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Always allow" })).ToBeVisibleAsync();

        await approvals.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Approve", Exact = true }).ClickAsync();

        await Expect(console.ModelEvents.Filter(new() { HasText = ConsoleServer.ApprovalFinalText })).ToHaveCountAsync(1);
        await Expect(console.Log.Locator("li.event.tool", new() { HasText = "Tool set_state returned" })).ToHaveCountAsync(1);
        await Expect(console.Status).ToHaveTextAsync("idle");
        await Expect(approvals).ToBeHiddenAsync();
        console.Errors.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_problem_from_the_server_is_shown_with_its_title_and_code()
    {
        var user = ConsoleServer.NewId("user");
        await using var console = await browser.NewPageAsync(server.BaseAddress);
        await console.OpenAsync(ConsoleServer.ApprovalApp, user);
        await console.CreateSessionAsync();
        await console.SendAsync("set the color");
        await Expect(console.Status).ToHaveTextAsync("waiting");

        // While a turn waits for approval, a new turn is refused: 409 session_busy.
        await console.Message.FillAsync("another turn");
        await console.Button("Send").ClickAsync();

        await Expect(console.ErrorBanner).ToContainTextAsync("one turn runs at a time");
        await Expect(console.ErrorBanner).ToContainTextAsync("session_busy");
        await Expect(console.ErrorBanner).ToContainTextAsync("409");
        await Expect(console.Message).ToHaveValueAsync("another turn");

        await console.Button("Dismiss error").ClickAsync();
        await Expect(console.ErrorBanner).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Markup_in_messages_and_titles_is_shown_as_text()
    {
        const string hostile = "<script>window.__injected = 1</script><img src=x onerror=\"window.__injected = 2\"><b>bold</b>";
        var user = ConsoleServer.NewId("user");
        await using var console = await browser.NewPageAsync(server.BaseAddress);
        await console.OpenAsync("echo", user);
        var id = await console.CreateSessionAsync();

        await console.SendAsync(hostile);

        await Expect(console.ModelEvents.Locator(".text")).ToHaveTextAsync(hostile);
        await Expect(console.Log.Locator("li.event.user .text")).ToHaveTextAsync(hostile);
        await Expect(console.SessionRow(id)).ToContainTextAsync("<script>");
        await Expect(console.Page.Locator("#event-log script, #event-log img, #event-log b, #session-list script")).ToHaveCountAsync(0);
        (await console.Page.EvaluateAsync<bool>("() => window.__injected === undefined")).ShouldBeTrue();
        console.Errors.ShouldBeEmpty();
    }
}
