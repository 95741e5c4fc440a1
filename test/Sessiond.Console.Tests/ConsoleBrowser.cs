using Microsoft.Playwright;

namespace Sessiond.Console.Tests;

/// <summary>
/// One headless Chromium for the whole test assembly, driven by Playwright. The browser is Debian's
/// <c>/usr/bin/chromium</c> (or <c>SESSIOND_CHROMIUM</c>), because Playwright's own browser download cannot work where
/// the project builds. Without Chromium the tests skip, except under <c>CI=true</c>, where they fail.
/// </summary>
public sealed class ConsoleBrowser : IAsyncLifetime
{
    /// <summary>How long any expectation waits before it fails, saying what it waited for.</summary>
    public const float ExpectTimeoutMs = 15_000;

    // The flags that work headless on the build machines (see DEPENDENCIES.md); Playwright adds --headless itself.
    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public static string ChromiumPath =>
        Environment.GetEnvironmentVariable("SESSIOND_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    /// <summary>Why the browser is unavailable, or null when it runs.</summary>
    public string? MissingReason { get; private set; }

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            MissingReason = $"Chromium is not installed at {ChromiumPath}; scripts/test.sh installs it with apt-get install chromium, or set SESSIOND_CHROMIUM.";
            return;
        }

        // Nothing may be fetched: no browser download, and no host check for Playwright's bundled browsers.
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_VALIDATE_HOST_REQUIREMENTS", "1");
        Assertions.SetDefaultExpectTimeout(ExpectTimeoutMs);
        _playwright = await Playwright.CreateAsync();
        // Playwright gives the browser a fresh temporary profile (--user-data-dir) of its own.
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = 60_000,
        });
    }

    /// <summary>
    /// A fresh page in its own context (own storage), recording console errors and uncaught exceptions. Skips the
    /// test when Chromium is missing, or fails it under CI.
    /// </summary>
    public async Task<ConsolePage> NewPageAsync(Uri baseAddress)
    {
        if (MissingReason is { } reason)
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail(reason + " CI=true, so the browser tests must run.");
            }

            Assert.Skip(reason);
        }

        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1200, Height = 900 },
        });
        context.SetDefaultTimeout(ExpectTimeoutMs);
        var page = await context.NewPageAsync();
        return new ConsolePage(context, page);
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
