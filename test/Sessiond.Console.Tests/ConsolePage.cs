using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Sessiond.Console.Tests;

/// <summary>One browser page on the console, with the locators the tests share and the errors the page reported.</summary>
public sealed class ConsolePage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _errors = [];

    public ConsolePage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (_errors)
                {
                    _errors.Add($"console error: {message.Text} ({message.Location})");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_errors)
            {
                _errors.Add("uncaught: " + error);
            }
        };
    }

    public IPage Page { get; }

    /// <summary>Console errors and uncaught exceptions so far.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errors)
            {
                return [.. _errors];
            }
        }
    }

    public ILocator Status => Page.Locator("#session-status");

    public ILocator ErrorBanner => Page.GetByRole(AriaRole.Alert);

    public ILocator Message => Page.GetByRole(AriaRole.Textbox, new() { Name = "Message", Exact = true });

    public ILocator Log => Page.GetByRole(AriaRole.Log, new() { Name = "Conversation" });

    /// <summary>Final (stored) events written by an agent.</summary>
    public ILocator ModelEvents => Log.Locator("li.event.model:not([data-live])");

    public ILocator LiveEvents => Log.Locator("li[data-live]");

    public ILocator SessionRow(string sessionId) => Page.Locator($"#session-list li[data-session-id='{sessionId}']");

    public ILocator Button(string name) => Page.GetByRole(AriaRole.Button, new() { Name = name, Exact = true });

    /// <summary>Opens the console for one app and user, and waits until the session feed is live.</summary>
    public async Task OpenAsync(string app, string user)
    {
        var response = await Page.GotoAsync($"/?app={Uri.EscapeDataString(app)}&user={Uri.EscapeDataString(user)}");
        Assert.True(response?.Ok, $"GET / answered {response?.Status}");
        await Expect(Page.Locator("#feed-state")).ToHaveTextAsync("Live updates on.");
    }

    /// <summary>Creates a session with the console's own button and waits until it is open and idle.</summary>
    public async Task<string> CreateSessionAsync()
    {
        await Button("New session").ClickAsync();
        await Expect(Status).ToHaveTextAsync("idle");
        var current = Page.Locator("#session-list li:has(button[aria-current='true'])");
        await Expect(current).ToHaveCountAsync(1);
        return await current.GetAttributeAsync("data-session-id") ?? throw new InvalidOperationException("The open session's row has no id.");
    }

    /// <summary>Types a message and sends it with Enter, as a keyboard user would.</summary>
    public async Task SendAsync(string text)
    {
        await Message.FillAsync(text);
        await Message.PressAsync("Enter");
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
