using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sessiond.Runtime.Tests;

/// <summary>
/// An OpenAI-compatible chat completions server on real Kestrel (127.0.0.1, port 0). <c>POST /v1/chat/completions</c>
/// answers with the next <see cref="FakeReply"/> from its queue, streaming chunked server-sent events, and records every
/// request so tests can assert what the client sent. With an empty queue it answers 500, naming the missing reply.
/// </summary>
public sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<FakeReply> replies = new();
    private readonly ConcurrentQueue<FakeRequest> requests = new();
    private readonly CancellationTokenSource stopping = new();

    private FakeOpenAiServer()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        app = builder.Build();
        app.MapPost("/v1/chat/completions", HandleAsync);
    }

    /// <summary>The base URL a client configures, ending in <c>/v1</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Every request received so far, in arrival order.</summary>
    public IReadOnlyList<FakeRequest> Requests => [.. requests];

    /// <summary>Starts a server on a free loopback port.</summary>
    public static async Task<FakeOpenAiServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var server = new FakeOpenAiServer();
        await server.app.StartAsync(cancellationToken);
        var address = server.app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.BaseUrl = new Uri($"{address}/v1");
        return server;
    }

    /// <summary>Queues replies; each request takes the oldest.</summary>
    public FakeOpenAiServer Enqueue(params FakeReply[] scripted)
    {
        foreach (var reply in scripted)
        {
            replies.Enqueue(reply);
        }

        return this;
    }

    /// <summary>Stops the server; hanging replies end at once.</summary>
    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await app.StopAsync();
        await app.DisposeAsync();
        stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var request = new FakeRequest(context.Request.Headers.Authorization.ToString(), body.RootElement.Clone());
        requests.Enqueue(request);
        using var reply = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping.Token);
        await using var hangUp = context.RequestAborted.Register(() => request.SignalHangUp());
        if (!replies.TryDequeue(out var scripted))
        {
            scripted = FakeReply.Error(500, $"FakeOpenAiServer has no scripted reply left for request {requests.Count}.");
        }

        context.Response.StatusCode = scripted.Status;
        foreach (var (name, value) in scripted.Headers)
        {
            context.Response.Headers[name] = value;
        }

        if (scripted.ErrorBody is { } error)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(error, reply.Token);
            return;
        }

        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.StartAsync(reply.Token);
        try
        {
            await scripted.PlayAsync(context, reply.Token);
        }
        catch (OperationCanceledException) when (reply.IsCancellationRequested)
        {
            // The client hung up or the server is stopping: nothing left to send to anyone.
        }
    }
}

/// <summary>A request <see cref="FakeOpenAiServer"/> received: its <c>Authorization</c> header and JSON body.</summary>
public sealed class FakeRequest(string authorization, JsonElement body)
{
    private readonly TaskCompletionSource hungUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The <c>Authorization</c> header as sent, such as <c>Bearer sk-...</c>.</summary>
    public string Authorization { get; } = authorization;

    /// <summary>The request body: <c>model</c>, <c>messages</c>, <c>tools</c>, <c>stream</c>, <c>stream_options</c>.</summary>
    public JsonElement Body { get; } = body;

    /// <summary>Completes when the client dropped the connection before the reply ended.</summary>
    public Task HungUp => hungUp.Task;

    internal void SignalHangUp() => hungUp.TrySetResult();
}
