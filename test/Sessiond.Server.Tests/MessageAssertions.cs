using System.Net;
using System.Text.Json;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>Checks on answers of the signed session-manager surface, whose errors are <c>{"message": ...}</c>.</summary>
public static class MessageAssertions
{
    /// <summary>Asserts <paramref name="status"/> with exactly <c>{"message": <paramref name="message"/>}</c> as JSON.</summary>
    public static async Task ShouldBeMessageAsync(this HttpResponseMessage response, HttpStatusCode status, string message)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(status, body);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/json", body);
        var root = JsonDocument.Parse(body).RootElement;
        root.EnumerateObject().Select(p => p.Name).ShouldBe(["message"], body);
        root.GetProperty("message").GetString().ShouldBe(message, body);
    }
}
