namespace Sessiond.Server.Tests;

/// <summary>
/// A server whose streams are tuned for tests: a 16-frame subscriber buffer, so a slow reader falls behind after a few
/// events, and a ping every second, so a test can wait for one.
/// </summary>
public sealed class TunedStreamsServer : SessiondServer
{
    public const int SubscriberBufferFrames = 16;

    protected override string[] ExtraArgs =>
        [$"--Sessiond:Streams:SubscriberBufferFrames={SubscriberBufferFrames}", "--Sessiond:Streams:PingIntervalSeconds=1"];
}
