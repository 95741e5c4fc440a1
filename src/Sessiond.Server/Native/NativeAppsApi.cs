using Microsoft.AspNetCore.Http.HttpResults;
using Sessiond.Core.Sessions;
using Sessiond.Core.State;

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

    public static async Task<Ok<AppsResponse>> ListAsync(SessionService sessions, CancellationToken cancellationToken) =>
        TypedResults.Ok(new AppsResponse(await sessions.ListAppsAsync(cancellationToken)));

    public static async Task<Ok<AppStateResponse>> GetAppStateAsync(string app, SessionService sessions, CancellationToken cancellationToken)
    {
        var state = await sessions.GetAppStateAsync(app, cancellationToken);
        return TypedResults.Ok(new AppStateResponse(app, StateChanges.Merge(EmptyState, EmptyState, state)));
    }

    public static async Task<Ok<UserStateResponse>> GetUserStateAsync(
        string app, string user, SessionService sessions, CancellationToken cancellationToken)
    {
        var state = await sessions.GetUserStateAsync(app, user, cancellationToken);
        return TypedResults.Ok(new UserStateResponse(app, user, StateChanges.Merge(EmptyState, state, EmptyState)));
    }

    private static readonly Dictionary<string, System.Text.Json.JsonElement> EmptyState = [];
}
