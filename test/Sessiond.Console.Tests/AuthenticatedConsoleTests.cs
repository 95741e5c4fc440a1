using Shouldly;
using static Microsoft.Playwright.Assertions;

namespace Sessiond.Console.Tests;

/// <summary>With authentication on, the console's files stay open, and its API calls carry the token the user pastes.</summary>
public sealed class AuthenticatedConsoleTests(ConsoleBrowser browser, AuthConsoleServer server) : IClassFixture<AuthConsoleServer>
{
    [Fact]
    public async Task The_console_loads_without_credentials_and_works_once_a_token_is_pasted()
    {
        await using var console = await browser.NewPageAsync(server.BaseAddress);

        var response = await console.Page.GotoAsync($"/?app=echo&user={AuthConsoleServer.User}");

        response!.Status.ShouldBe(200);
        await Expect(console.ErrorBanner).ToContainTextAsync("unauthorized");
        await Expect(console.ErrorBanner).ToContainTextAsync("Paste a bearer token");

        await console.Page.GetByLabel("Bearer token").FillAsync(AuthConsoleServer.Token);
        await console.Button("Use token").ClickAsync();

        await Expect(console.Page.Locator("#feed-state")).ToHaveTextAsync("Live updates on.");
        await Expect(console.ErrorBanner).ToBeHiddenAsync();
        await Expect(console.Page.GetByLabel("Bearer token")).ToHaveValueAsync("");
        var id = await console.CreateSessionAsync();
        await console.SendAsync("with a token");
        await Expect(console.ModelEvents.Filter(new() { HasText = "with a token" })).ToHaveCountAsync(1);
        await Expect(console.SessionRow(id)).ToContainTextAsync("with a token");
        (await console.Page.EvaluateAsync<string>("() => sessionStorage.getItem('sessiond.token')")).ShouldBe(AuthConsoleServer.Token);
    }
}
