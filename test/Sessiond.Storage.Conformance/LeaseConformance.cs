using Sessiond.Core.Errors;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Shouldly;

namespace Sessiond.Storage.Conformance;

/// <summary>
/// Turn leases with fencing tokens: a start takes one, its token increases per session, renewal and every write of the
/// turn need the current token, and a stale lease is taken over by exactly one repairer.
/// </summary>
public abstract class LeaseConformance(IStoreFixture fixture) : StoreConformanceBase(fixture)
{
    private static readonly string[] Startable = [SessionStatus.Idle, SessionStatus.Failed];
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_start_takes_a_lease_whose_token_increases_per_session()
    {
        var session = await CreateAsync(Unique("app"), "u");
        var other = await CreateAsync(Unique("app"), "u");

        var first = await StartAsync(session.Id, "node-a", Epoch);
        await EndAsync(session.Id, first.Token, SessionStatus.Idle);
        var second = await StartAsync(session.Id, "node-b", Epoch);
        var elsewhere = await StartAsync(other.Id, "node-a", Epoch);

        first.Owner.ShouldBe("node-a");
        first.ExpiresAt.ShouldBe(Epoch + Ttl);
        second.Token.ShouldBe(first.Token + 1);
        second.Owner.ShouldBe("node-b");
        elsewhere.Token.ShouldBe(first.Token, "tokens count per session");
    }

    [Fact]
    public async Task A_write_with_a_stale_token_is_lease_lost_and_writes_nothing()
    {
        var session = await CreateAsync(Unique("app"), "u");
        var lease = await StartAsync(session.Id, "node-a", Epoch);
        await AppendFencedAsync(session.Id, lease.Token, "by the holder");
        var taken = await Store.TakeOverLeaseAsync(session.Id, lease.Token, new LeaseClaim("node-b", Epoch + Ttl, Epoch + Ttl * 2), Ct);

        var append = await Should.ThrowAsync<SessiondException>(() => AppendFencedAsync(session.Id, lease.Token, "by the stale holder"));
        var status = await Should.ThrowAsync<SessiondException>(() => EndAsync(session.Id, lease.Token, SessionStatus.Failed));

        taken.ShouldNotBeNull();
        append.Code.ShouldBe(ErrorCodes.LeaseLost);
        append.Kind.ShouldBe(ErrorKind.Conflict);
        status.Code.ShouldBe(ErrorCodes.LeaseLost);
        var read = await Store.GetSessionAsync(session.Id, Ct);
        read!.LastSeq.ShouldBe(1);
        read.Status.ShouldBe(SessionStatus.Running);
        (await AllEventsAsync(session.Id)).Select(TextOf).ShouldBe(["by the holder"]);
        await AppendFencedAsync(session.Id, taken.Token, "by the new holder");
    }

    [Fact]
    public async Task Renewal_needs_the_current_held_lease()
    {
        var session = await CreateAsync(Unique("app"), "u");
        var first = await StartAsync(session.Id, "node-a", Epoch);
        await Store.RenewLeaseAsync(session.Id, first.Token, Epoch + Ttl * 2, Ct);
        await EndAsync(session.Id, first.Token, SessionStatus.Idle);
        var second = await StartAsync(session.Id, "node-b", Epoch);

        (await Should.ThrowAsync<SessiondException>(() => Store.RenewLeaseAsync(session.Id, first.Token, Epoch + Ttl * 3, Ct)))
            .Code.ShouldBe(ErrorCodes.LeaseLost);
        await EndAsync(session.Id, second.Token, SessionStatus.Idle);
        (await Should.ThrowAsync<SessiondException>(() => Store.RenewLeaseAsync(session.Id, second.Token, Epoch + Ttl * 3, Ct)))
            .Code.ShouldBe(ErrorCodes.LeaseLost, "a released lease cannot be renewed");
        (await Should.ThrowAsync<SessiondException>(() => Store.RenewLeaseAsync(Unique("missing"), 1, Epoch, Ct)))
            .Code.ShouldBe(ErrorCodes.SessionNotFound);
    }

    [Fact]
    public async Task A_lease_is_stale_once_it_expires_and_one_repairer_takes_it_over()
    {
        var session = await CreateAsync(Unique("app"), "u");
        var lease = await StartAsync(session.Id, "node-a", Epoch);
        var claim = new LeaseClaim("node-b", Epoch + Ttl - TimeSpan.FromSeconds(1), Epoch + Ttl * 2);

        (await StaleAsync(session.Id, claim.Now, null)).ShouldBeNull("a live lease is not stale");
        (await Store.TakeOverLeaseAsync(session.Id, lease.Token, claim, Ct)).ShouldBeNull("a live lease cannot be taken over");
        await Store.RenewLeaseAsync(session.Id, lease.Token, Epoch + Ttl * 2, Ct);
        (await StaleAsync(session.Id, Epoch + Ttl, null)).ShouldBeNull("a renewed lease is not stale");

        var expiredAt = Epoch + Ttl * 2;
        var stale = await StaleAsync(session.Id, expiredAt, null);
        var later = new LeaseClaim("node-b", expiredAt, expiredAt + Ttl);
        var repairs = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Store.TakeOverLeaseAsync(session.Id, lease.Token, later, Ct)));

        stale.ShouldNotBeNull().Token.ShouldBe(lease.Token);
        stale.Owner.ShouldBe("node-a");
        var winner = repairs.Where(r => r is not null).ShouldHaveSingleItem()!;
        winner.Token.ShouldBe(lease.Token + 1);
        winner.Owner.ShouldBe("node-b");
        (await StaleAsync(session.Id, expiredAt, null)).ShouldBeNull("the repairer's lease is live");
    }

    [Fact]
    public async Task A_lease_held_by_a_previous_run_of_the_same_node_is_stale_to_that_node_only()
    {
        var session = await CreateAsync(Unique("app"), "u");
        var lease = await StartAsync(session.Id, "node-a", Epoch);

        (await StaleAsync(session.Id, Epoch, "node-b")).ShouldBeNull();
        (await StaleAsync(session.Id, Epoch, "node-a")).ShouldNotBeNull().Token.ShouldBe(lease.Token);
        (await Store.TakeOverLeaseAsync(session.Id, lease.Token, new LeaseClaim("node-b", Epoch, Epoch + Ttl), Ct)).ShouldBeNull();
        (await Store.TakeOverLeaseAsync(session.Id, lease.Token, new LeaseClaim("node-a", Epoch, Epoch + Ttl), Ct))
            .ShouldNotBeNull().Token.ShouldBe(lease.Token + 1);
    }

    [Fact]
    public async Task A_paused_session_holds_no_lease_and_a_running_one_without_a_lease_is_stale()
    {
        var paused = await CreateAsync(Unique("app"), "u");
        var lease = await StartAsync(paused.Id, "node-a", Epoch);
        await EndAsync(paused.Id, lease.Token, SessionStatus.Waiting);
        var unleased = await CreateAsync(Unique("app"), "u");
        await Store.SetRunStateAsync(unleased.Id, new RunStateChange(Epoch) { Status = SessionStatus.Running, FromStatuses = Startable }, Ct);

        (await StaleAsync(paused.Id, Epoch + Ttl * 10, null)).ShouldBeNull();
        var stale = (await StaleAsync(unleased.Id, Epoch, null)).ShouldNotBeNull();
        stale.Owner.ShouldBeNull();
        (await Store.TakeOverLeaseAsync(unleased.Id, stale.Token, new LeaseClaim("node-b", Epoch, Epoch + Ttl), Ct))
            .ShouldNotBeNull().Token.ShouldBe(stale.Token + 1);
    }

    private async Task<TurnLease> StartAsync(string sessionId, string owner, DateTimeOffset now)
    {
        var session = await Store.SetRunStateAsync(sessionId, new RunStateChange(now)
        {
            Status = SessionStatus.Running,
            FromStatuses = Startable,
            Lease = new LeaseClaim(owner, now, now + Ttl),
        }, Ct);
        session.Status.ShouldBe(SessionStatus.Running);
        return session.Lease.ShouldNotBeNull();
    }

    private Task<Session> EndAsync(string sessionId, long token, string status) =>
        Store.SetRunStateAsync(sessionId, new RunStateChange(Epoch) { Status = status, FencingToken = token, ReleaseLease = true }, Ct);

    private Task<AppendResult> AppendFencedAsync(string sessionId, long token, string text) =>
        Store.AppendEventsAsync(BatchAt(sessionId, Epoch, Event(text)) with { FencingToken = token }, Ct);

    private async Task<TurnLease?> StaleAsync(string sessionId, DateTimeOffset now, string? owner) =>
        (await Store.ListStaleLeasesAsync(now, owner, 100_000, Ct)).SingleOrDefault(l => l.SessionId == sessionId);
}
