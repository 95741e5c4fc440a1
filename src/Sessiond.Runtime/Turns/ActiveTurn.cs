using System.Collections.Concurrent;
using System.Threading.Channels;
using Sessiond.Runtime.Tools;

namespace Sessiond.Runtime.Turns;

/// <summary>A turn running on this node: how to cancel it, steer it, answer its questions, and hear what it does.</summary>
internal sealed class ActiveTurn(string sessionId, string invocationId, long leaseToken, int steerCapacity)
{
    private readonly Channel<TurnUpdate> _updates = Channel.CreateUnbounded<TurnUpdate>(new UnboundedChannelOptions { SingleReader = true });

    public string SessionId { get; } = sessionId;

    public string InvocationId { get; } = invocationId;

    /// <summary>The fencing token of this turn's lease; every write of the turn carries it.</summary>
    public long LeaseToken { get; } = leaseToken;

    /// <summary>Set when the lease was found taken over: the turn stops, and writes nothing more.</summary>
    public bool LeaseLost { get; set; }

    public CancellationTokenSource Cancellation { get; } = new();

    public Channel<TurnInput> Steers { get; } = Channel.CreateBounded<TurnInput>(
        new BoundedChannelOptions(steerCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    public ConcurrentDictionary<string, TaskCompletionSource<ElicitationAnswer>> Elicitations { get; } = new();

    public int SteerCount => Steers.Reader.Count;

    /// <summary>The updates of this turn, for the client that started it; completes when the turn ends or pauses.</summary>
    public IAsyncEnumerable<TurnUpdate> Updates => _updates.Reader.ReadAllAsync();

    public void Emit(TurnUpdate update) => _updates.Writer.TryWrite(update);

    public void Complete() => _updates.Writer.TryComplete();
}
