using Sessiond.Runtime.Turns;

namespace Sessiond.Server.Runtime;

/// <summary>
/// Every third of the lease time, repairs sessions whose turn lease lapsed: their node died or lost the database. Runs on
/// every node; the store's compare-and-set on the lease lets exactly one node repair each session.
/// </summary>
public sealed partial class LeaseSweeper(TurnCoordinator turns, TurnServices services, ILogger<LeaseSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(services.LeaseDuration / 3, services.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await turns.SweepAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The next tick tries again; a store that is down now may be back then.
                    LogSweepFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 42, Level = LogLevel.Warning, Message = "Sweeping expired turn leases failed; retrying at the next tick")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
