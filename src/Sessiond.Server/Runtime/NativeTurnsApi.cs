using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Sessiond.Core.Errors;
using Sessiond.Core.Json;
using Sessiond.Runtime.Agents;
using Sessiond.Runtime.Turns;
using Sessiond.Server.Auth;
using Sessiond.Server.Http;
using Sessiond.Server.Streams;

namespace Sessiond.Server.Runtime;

/// <summary>The native runtime routes: turns, steer, follow-ups, cancel, approvals, elicitations, status and agents.</summary>
public static class NativeTurnsApi
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/sessions/{id}");
        group.MapPost("/turns", StartTurnAsync);
        group.MapPost("/steer", SteerAsync);
        group.MapPost("/followups", FollowupAsync);
        group.MapPost("/cancel", CancelAsync);
        group.MapPost("/approvals", ApproveAsync);
        group.MapPost("/elicitations/{elicitationId}", AnswerElicitationAsync);
        group.MapGet("/status", StatusAsync);
        routes.MapGet("/v1/apps/{app}/agents", AgentsAsync);
    }

    /// <summary>
    /// Starts a turn: 202 <c>{invocationId, status}</c>, or with <c>Accept: text/event-stream</c> the turn's own stream
    /// (<c>event</c>, <c>delta</c> and <c>status</c> frames, then <c>turn_end</c>).
    /// </summary>
    public static async Task StartTurnAsync(string id, HttpContext context, TurnCoordinator turns)
    {
        var body = await JsonBody.ReadAsync(context.Request, ServerJsonContext.Default.TurnRequestBody);
        var request = new TurnRequest(TurnInputs.Parse(body.Input))
        {
            Agent = body.Agent,
            Model = body.Model,
            Enqueue = body.Mode switch
            {
                null or "reject" => false,
                "enqueue" => true,
                _ => throw SessionErrors.Invalid("'mode' must be 'reject' or 'enqueue'."),
            },
        };
        var handle = await turns.StartTurnAsync(context.Caller(), id, request, context.RequestAborted);
        if (handle.Queued || !WantsStream(context.Request))
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            await context.Response.WriteAsJsonAsync(
                new TurnAccepted(handle.InvocationId, handle.Queued ? FollowupStatus.Queued : "started"),
                ServerJsonContext.Default.TurnAccepted, cancellationToken: context.RequestAborted);
            return;
        }

        await StreamTurnAsync(context, handle);
    }

    public static async Task<Accepted> SteerAsync(string id, HttpContext context, TurnCoordinator turns)
    {
        var body = await JsonBody.ReadAsync(context.Request, ServerJsonContext.Default.InputBody);
        await turns.SteerAsync(context.Caller(), id, TurnInputs.Parse(body.Input), context.RequestAborted);
        return TypedResults.Accepted((string?)null);
    }

    public static async Task<Accepted<FollowupAccepted>> FollowupAsync(string id, HttpContext context, TurnCoordinator turns)
    {
        var body = await JsonBody.ReadAsync(context.Request, ServerJsonContext.Default.InputBody);
        var key = context.Request.Headers["Idempotency-Key"].ToString();
        var status = await turns.EnqueueFollowupAsync(context.Caller(), id, TurnInputs.Parse(body.Input), key, context.RequestAborted);
        return TypedResults.Accepted((string?)null, new FollowupAccepted(status));
    }

    public static async Task<Accepted> CancelAsync(string id, HttpContext context, TurnCoordinator turns)
    {
        await turns.CancelAsync(context.Caller(), id, context.RequestAborted);
        return TypedResults.Accepted((string?)null);
    }

    public static async Task<Ok<ApprovalAccepted>> ApproveAsync(string id, HttpContext context, TurnCoordinator turns)
    {
        var body = await JsonBody.ReadAsync(context.Request, ServerJsonContext.Default.ApprovalBody);
        if (string.IsNullOrEmpty(body.ToolCallId))
        {
            throw SessionErrors.Invalid("'toolCallId' is required.");
        }

        var status = await turns.ApproveAsync(
            context.Caller(), id, body.ToolCallId, body.Decision ?? "", body.Reason, context.RequestAborted);
        return TypedResults.Ok(new ApprovalAccepted(status));
    }

    public static async Task<Accepted> AnswerElicitationAsync(string id, string elicitationId, HttpContext context, TurnCoordinator turns)
    {
        var body = await JsonBody.ReadAsync(context.Request, ServerJsonContext.Default.ElicitationBody);
        await turns.AnswerElicitationAsync(context.Caller(), id, elicitationId, body.Action ?? "", body.Content, context.RequestAborted);
        return TypedResults.Accepted((string?)null);
    }

    public static async Task<Ok<SessionRunStatus>> StatusAsync(string id, HttpContext context, TurnCoordinator turns) =>
        TypedResults.Ok(await turns.GetStatusAsync(context.Caller(), id, context.RequestAborted));

    public static Ok<AgentsResponse> AgentsAsync(string app, HttpContext context, AgentCatalog catalog)
    {
        Core.Access.AccessPolicy.RequireApp(context.Caller(), Core.Validation.Ids.Require(app, "app"));
        var definition = catalog.Find(app) ?? throw new SessiondException(ErrorKind.NotFound, ErrorCodes.NotFound,
            $"The app '{SessionErrors.Printable(app)}' has no agents.");
        var agents = definition.Agents.Values.OrderBy(a => a.Name, StringComparer.Ordinal).Select(a => new AgentSummary(
            a.Name, a.Model, a.Description, a.Tools,
            a.Tools.Count(t => definition.Toolsets.GetValueOrDefault(t)?.Type is null or ToolsetDefinition.Builtin) * Sessiond.Runtime.Tools.BuiltinTools.Count,
            a.SubAgents)).ToList();
        return TypedResults.Ok(new AgentsResponse(app, agents, [.. definition.Models.Keys.Order(StringComparer.Ordinal)]));
    }

    private static bool WantsStream(HttpRequest request) =>
        request.Headers.Accept.Any(value => value?.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>Writes the turn's updates as SSE until the turn ends or pauses; the client leaving does not stop the turn.</summary>
    private static async Task StreamTurnAsync(HttpContext context, TurnHandle handle)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(context.RequestAborted);
        var status = "idle";
        try
        {
            await foreach (var update in handle.Updates.WithCancellation(context.RequestAborted))
            {
                var frame = update switch
                {
                    TurnUpdate.Committed committed => SseFrames.Event(committed.Event.Seq, committed.Event.Json),
                    TurnUpdate.Partial partial => SseFrames.Unnumbered(FrameKind.Delta, "delta", SessiondJson.SerializeEvent(partial.Event)),
                    TurnUpdate.Status changed => StatusFrame(status = changed.Value),
                    _ => null,
                };
                if (frame is not null)
                {
                    await response.Body.WriteAsync(frame.Bytes, context.RequestAborted);
                    await response.Body.FlushAsync(context.RequestAborted);
                }
            }

            var end = SseFrames.Unnumbered(FrameKind.End, "turn_end",
                JsonSerializer.SerializeToUtf8Bytes(new TurnEndFrame(handle.InvocationId, status), ServerJsonContext.Default.TurnEndFrame));
            await response.Body.WriteAsync(end.Bytes, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left; the turn goes on and its events stay on the session stream.
        }
    }

    private static StreamFrame StatusFrame(string status) =>
        SseFrames.Unnumbered(FrameKind.Status, "status", JsonSerializer.SerializeToUtf8Bytes(new StatusFrameBody(status), ServerJsonContext.Default.StatusFrameBody));
}
