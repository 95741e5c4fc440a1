using System.Buffers;
using System.Text.Json;
using Sessiond.Core.Errors;
using Sessiond.Core.Events;
using Sessiond.Core.Json;
using Sessiond.Core.Sessions;
using Sessiond.Runtime.Agents;
using Sessiond.Runtime.Turns;
using Sessiond.Server.Auth;
using Sessiond.Server.Http;
using Sessiond.Server.Runtime;

namespace Sessiond.Server.Adk;

/// <summary>
/// ADK's agent runs: <c>POST /run</c> answers the turn's events as one JSON array, <c>POST /run_sse</c> streams them as
/// <c>data:</c> frames. Both run the turn through the runtime's <see cref="TurnCoordinator"/>, like the native surface.
/// </summary>
public static partial class AdkRunApi
{
    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapPost("/run", RunAsync);
        group.MapPost("/run_sse", RunSseAsync);
    }

    /// <summary>Runs a turn and answers, once it ends or pauses, the user's event and every event the turn recorded.</summary>
    public static async Task<IResult> RunAsync(HttpContext context, SessionService sessions, AgentCatalog catalog, TurnCoordinator turns)
    {
        var (run, refusal) = await PrepareAsync(context, sessions, catalog);
        if (refusal is not null)
        {
            return refusal;
        }

        var handle = await turns.StartTurnAsync(context.Caller(), run!.SessionId, run.Request, context.RequestAborted);
        var committed = new List<StoredEvent>();
        await foreach (var update in handle.Updates.WithCancellation(context.RequestAborted))
        {
            if (update is TurnUpdate.Committed { Event: var stored })
            {
                committed.Add(stored);
            }
        }

        return new AdkEventsResult(committed);
    }

    /// <summary>
    /// Runs a turn and streams it: with <c>streaming</c> its deltas as <c>partial</c> events, and each event it records,
    /// as ADK's <c>data: &lt;event&gt;</c> frames. Leaving early does not stop the turn.
    /// </summary>
    public static async Task RunSseAsync(HttpContext context, SessionService sessions, AgentCatalog catalog, TurnCoordinator turns, ILoggerFactory loggers)
    {
        var (run, refusal) = await PrepareAsync(context, sessions, catalog);
        if (refusal is not null)
        {
            await refusal.ExecuteAsync(context);
            return;
        }

        var handle = await turns.StartTurnAsync(context.Caller(), run!.SessionId, run.Request, context.RequestAborted);
        var response = context.Response;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(context.RequestAborted);
        var cancellationToken = context.RequestAborted;
        try
        {
            await foreach (var update in handle.Updates.WithCancellation(cancellationToken))
            {
                var json = update switch
                {
                    TurnUpdate.Committed committed => committed.Event.Json,
                    TurnUpdate.Partial delta when run.Streaming => SessiondJson.SerializeEvent(delta.Event),
                    _ => null,
                };
                if (json is not null)
                {
                    await WriteFrameAsync(response, writer => AdkJson.WriteEvent(writer, json), cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client left; the turn goes on and its events stay on the session.
        }
        catch (Exception e)
        {
            // The stream has started, so the failure can only be told in a frame, as ADK does.
            LogStreamFailed(loggers.CreateLogger(typeof(AdkRunApi).FullName!), e, run.SessionId);
            await WriteFrameAsync(response, writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("error", e is SessiondException domain ? domain.Message : "The run failed; see the server log.");
                writer.WriteEndObject();
            }, CancellationToken.None);
        }
    }

    /// <summary>
    /// Reads and checks the body, and finds the session under its app and user. ADK's missing-session answer names the
    /// session (<c>Session not found: &lt;id&gt;</c>), unlike a session read, so it is written here rather than mapped.
    /// </summary>
    private static async Task<(PreparedRun? Run, IResult? Refusal)> PrepareAsync(HttpContext context, SessionService sessions, AgentCatalog catalog)
    {
        var body = await JsonBody.ReadAsync(context.Request, ServerJsonContext.Default.AdkRunRequest);
        var app = Required(body.AppName ?? body.AppNameSnakeCase, "appName");
        var user = Required(body.UserId ?? body.UserIdSnakeCase, "userId");
        var sessionId = Required(body.SessionId ?? body.SessionIdSnakeCase, "sessionId");
        var message = body.NewMessage ?? body.NewMessageSnakeCase;
        if (message is not { ValueKind: JsonValueKind.Object })
        {
            throw SessionErrors.Invalid((body.InvocationId ?? body.InvocationIdSnakeCase) is null
                ? "'newMessage' is required: {\"role\": \"user\", \"parts\": [{\"text\": \"...\"}]}."
                : "'newMessage' is required; Sessiond resumes a paused turn through POST /v1/sessions/{id}/approvals, not 'invocationId'.");
        }

        TurnInput input;
        try
        {
            input = TurnInputs.Parse(message);
        }
        catch (SessiondException e) when (e.Kind == ErrorKind.Invalid)
        {
            throw SessionErrors.Invalid("'newMessage' must be {\"role\": \"user\", \"parts\": [...]} with at least one part such as {\"text\": \"...\"}.");
        }

        var caller = context.Caller();
        if (await sessions.FindAsync(caller, sessionId, context.RequestAborted) is not { } session || session.AppName != app || session.UserId != user)
        {
            return (null, Refuse(StatusCodes.Status404NotFound, $"Session not found: {SessionErrors.Printable(sessionId)}", ErrorCodes.SessionNotFound));
        }

        if (catalog.Find(app) is null)
        {
            return (null, Refuse(StatusCodes.Status404NotFound,
                $"App not found: {SessionErrors.Printable(app)} has no agents; add agents/{SessionErrors.Printable(app)}.yaml, or use the built-in app 'echo'.",
                ErrorCodes.NotFound));
        }

        var request = new TurnRequest(input) { StateDelta = body.StateDelta ?? body.StateDeltaSnakeCase };
        return (new PreparedRun(session.Id, body.Streaming ?? false, request), null);
    }

    private static string Required(string? value, string name) =>
        string.IsNullOrEmpty(value) ? throw SessionErrors.Invalid($"'{name}' is required.") : value;

    private static IResult Refuse(int status, string detail, string code) =>
        TypedResults.Json(new AdkError(detail, code), ServerJsonContext.Default.AdkError, statusCode: status);

    private static async Task WriteFrameAsync(HttpResponse response, Action<Utf8JsonWriter> write, CancellationToken cancellationToken)
    {
        response.BodyWriter.Write("data: "u8);
        await using (var writer = new Utf8JsonWriter(response.BodyWriter))
        {
            write(writer);
        }

        response.BodyWriter.Write("\n\n"u8);
        await response.BodyWriter.FlushAsync(cancellationToken);
    }

    private sealed record PreparedRun(string SessionId, bool Streaming, TurnRequest Request);

    [LoggerMessage(EventId = 60, Level = LogLevel.Warning, Message = "An ADK run_sse stream of session {SessionId} failed after it started")]
    private static partial void LogStreamFailed(ILogger logger, Exception exception, string sessionId);
}
