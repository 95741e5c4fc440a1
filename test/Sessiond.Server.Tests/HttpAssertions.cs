using System.Net;
using System.Text.Json;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>Checks on raw HTTP answers: status, problem+json and its stable code.</summary>
public static class HttpAssertions
{
    /// <summary>Asserts a problem+json answer with <paramref name="status"/> and <paramref name="code"/>, and returns the document.</summary>
    public static async Task<JsonElement> ShouldBeProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(status, body);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", body);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        problem.GetProperty("code").GetString().ShouldBe(code, body);
        problem.GetProperty("status").GetInt32().ShouldBe((int)status);
        return problem;
    }

    public static async Task<JsonElement> ShouldBeJsonAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(status, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient http, string path, string json) =>
        http.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    public static Task<HttpResponseMessage> PatchJsonAsync(this HttpClient http, string path, string json) =>
        http.PatchAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

}
