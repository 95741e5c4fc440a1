using Microsoft.AspNetCore.Http.HttpResults;
using Sessiond.Core.Sessions;
using Sessiond.Core.State;
using Sessiond.Server.Auth;

namespace Sessiond.Server.Native;

/// <summary>The native app routes under <c>/v1/apps</c>: the apps, and their app- and user-scoped state.</summary>
public static class NativeAppsApi
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/apps");
        group.MapGet("/", ListAsync);
        group.MapGet("/{app}/state", GetAppStateAsync);
        group.MapGet("/{app}/users/{user}/state", GetUserStateAsync);
    }

    public static async Task<Ok<AppsResponse>> ListAsync(HttpContext context, SessionService sessions) =>
        TypedResults.Ok(new AppsResponse(await sessions.ListAppsAsync(context.Caller(), context.RequestAborted)));

    public static async Task<Ok<AppStateResponse>> GetAppStateAsync(string app, HttpContext context, SessionService sessions)
    {
        var state = await sessions.GetAppStateAsync(context.Caller(), app, context.RequestAborted);
        return TypedResults.Ok(new AppStateResponse(app, StateChanges.Merge(EmptyState, EmptyState, state)));
    }

    public static async Task<Ok<UserStateResponse>> GetUserStateAsync(
        string app, string user, HttpContext context, SessionService sessions)
    {
        var state = await sessions.GetUserStateAsync(context.Caller(), app, user, context.RequestAborted);
        return TypedResults.Ok(new UserStateResponse(app, user, StateChanges.Merge(EmptyState, state, EmptyState)));
    }

    private static readonly Dictionary<string, System.Text.Json.JsonElement> EmptyState = [];
}
