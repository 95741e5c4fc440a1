using System.Net;
using System.Text;
using System.Text.Json;

namespace Sessiond.Load.Seed;

/// <summary>A pooled <see cref="HttpClient"/> to the server under test, and the few calls the seeding makes.</summary>
internal static class LoadHttp
{
    public static HttpClient Create(string url, int connections)
    {
        var baseAddress = new Uri(url.TrimEnd('/') + "/");
        if (!IPAddress.TryParse(baseAddress.Host, out var address) || !IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"--url must be a loopback address such as http://127.0.0.1:8080, not '{url}'.");
        }

        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, UseProxy = false };
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public static async Task PostAsync(HttpClient http, string path, string json, CancellationToken cancellationToken)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(path.TrimStart('/'), content, cancellationToken);
        await EnsureSuccessAsync(response, "POST", path, cancellationToken);
    }

    /// <summary>GETs <paramref name="path"/> and returns the parsed body and its size in bytes.</summary>
    public static async Task<(JsonDocument Body, long Bytes)> GetJsonAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path.TrimStart('/'), cancellationToken);
        await EnsureSuccessAsync(response, "GET", path, cancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return (JsonDocument.Parse(bytes), bytes.LongLength);
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string method, string path, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {body}");
        }
    }
}
