using Npgsql;
using Sessiond.Core.Access;
using Sessiond.Core.Errors;
using Sessiond.Core.Events;
using Sessiond.Core.Ports;
using Sessiond.Core.Sessions;
using Sessiond.Core.Validation;
using Sessiond.Storage.Postgres.Schema;
using Shouldly;

namespace Sessiond.Storage.Postgres.Tests;

/// <summary>
/// Several store instances on one schema, each standing for one node: seq and the expected-seq guard across nodes,
/// migration by one node at a time, commit hints from one node to another, and recovery after the LISTEN connection dies.
/// </summary>
public sealed class MultiNodeTests(PostgresStoreFixture fixture) : IClassFixture<PostgresStoreFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SessionService Service(ISessionStore store) => new(store, new SessiondLimits(), TimeProvider.System);

    private static SessionEvent Event(string text) => new()
    {
        Author = "user",
        Content = new EventContent { Role = "user", Parts = [new EventPart { Text = text }] },
    };

    private static string TextOf(StoredEvent stored) => stored.ToEvent().Content!.Parts![0].Text!;

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    [Fact]
    public async Task Guarded_appends_from_two_nodes_on_one_session_lose_nothing_and_keep_seq_gapless()
    {
        const int writersPerNode = 8;
        const int appendsPerWriter = 4;
        var schema = fixture.SchemaOf(Unique("two-writers"));
        var nodes = new[] { await fixture.OpenAsync(schema, null, Ct), await fixture.OpenAsync(schema, null, Ct) };
        var session = await Service(nodes[0]).CreateAsync(Caller.System, new CreateSessionCommand { AppName = "a", UserId = "u" }, Ct);

        await Task.WhenAll(
            from node in Enumerable.Range(0, nodes.Length)
            from writer in Enumerable.Range(0, writersPerNode)
            select Task.Run(async () =>
            {
                var service = Service(nodes[node]);
                for (var i = 0; i < appendsPerWriter; i++)
                {
                    // The client's loop for the guard: read, append expecting what was read, and on a conflict retry
                    // from the actual value the conflict reports.
                    var expected = (await nodes[node].GetSessionAsync(session.Id, Ct))!.LastSeq;
                    for (var attempt = 0; ; attempt++)
                    {
                        attempt.ShouldBeLessThan(1000, "a writer should get its turn");
                        try
                        {
                            await service.AppendAsync(Caller.System, session.Id,
                                new AppendEventsCommand { Events = [Event($"n{node}-w{writer}-{i}")], ExpectedLastSeq = expected }, null, Ct);
                            break;
                        }
                        catch (SeqConflictException conflict)
                        {
                            conflict.ActualLastSeq.ShouldBeGreaterThan(expected);
                            expected = conflict.ActualLastSeq;
                        }
                    }
                }
            }, Ct));

        const int total = 2 * writersPerNode * appendsPerWriter;
        var events = await nodes[1].ReadEventsAsync(session.Id, 0, 1000, Ct);
        events.Select(e => e.Seq).ShouldBe(Enumerable.Range(1, total).Select(i => (long)i));
        events.Select(TextOf).Distinct().Count().ShouldBe(total);
        (await nodes[0].GetSessionAsync(session.Id, Ct))!.LastSeq.ShouldBe(total);
    }

    [Fact]
    public async Task Two_nodes_starting_together_migrate_once_under_the_advisory_lock()
    {
        var connectionString = TestDatabase.Require();
        var schema = fixture.SchemaOf(Unique("migrate"));
        await using var holder = new NpgsqlConnection(connectionString);
        await holder.OpenAsync(Ct);
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock(hashtext('sessiond:migrate:' || $1))", holder))
        {
            take.Parameters.Add(new NpgsqlParameter { Value = schema });
            await take.ExecuteNonQueryAsync(Ct);
        }

        // Both nodes start while the lock is held elsewhere, so both queue on it.
        var starting = new[] { fixture.OpenAsync(schema, null, Ct), fixture.OpenAsync(schema, null, Ct) };
        await Waits.UntilAsync(async () => await CountAsync(holder,
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid::int = hashtext('sessiond:migrate:' || $1)",
                schema) == 2,
            "both nodes to wait for the migration lock");
        starting.ShouldAllBe(t => !t.IsCompleted);
        (await CountAsync(holder, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema)).ShouldBe(0, "nothing may migrate without the lock");

        await using (var release = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtext('sessiond:migrate:' || $1))", holder))
        {
            release.Parameters.Add(new NpgsqlParameter { Value = schema });
            await release.ExecuteNonQueryAsync(Ct);
        }

        var nodes = await Task.WhenAll(starting).WaitForAsync("both nodes to finish starting once the lock is free");
        (await CountAsync(holder, $"SELECT count(*) FROM \"{schema}\".schema_version")).ShouldBe(PostgresSchema.LatestVersion, "each migration applied once");
        var session = await Service(nodes[0]).CreateAsync(Caller.System, new CreateSessionCommand { AppName = "a", UserId = "u" }, Ct);
        (await nodes[1].GetSessionAsync(session.Id, Ct)).ShouldNotBeNull();
    }

    [Fact]
    public async Task Every_node_hears_every_commit_of_every_node_in_one_order()
    {
        var schema = fixture.SchemaOf(Unique("hints"));
        var heardOnA = new RecordingListener();
        var heardOnB = new RecordingListener();
        var nodeA = await fixture.OpenAsync(schema, heardOnA, Ct);
        var nodeB = await fixture.OpenAsync(schema, heardOnB, Ct);
        var app = Unique("app");
        var session = await Service(nodeA).CreateAsync(
            Caller.System, new CreateSessionCommand { AppName = app, UserId = "u", Events = [Event("first")] }, Ct);

        var created = await heardOnB.NextAsync("node B to hear the create committed on node A");
        created.Notice!.Kind.ShouldBe(FeedNoticeKind.Created);
        created.Notice!.SessionId.ShouldBe(session.Id);
        created.Events.Select(TextOf).ShouldBe(["first"]);

        // Unguarded writers on both nodes at once: each node must hear seq 2..N in order with nothing missing, which
        // holds only if every node hears all commits in the one order PostgreSQL committed them.
        const int appendsPerNode = 40;
        await Task.WhenAll(new[] { nodeA, nodeB }.Select((node, n) => Task.Run(async () =>
        {
            var service = Service(node);
            for (var i = 0; i < appendsPerNode; i++)
            {
                await service.AppendAsync(Caller.System, session.Id, new AppendEventsCommand { Events = [Event($"{n}-{i}")] }, null, Ct);
            }
        }, Ct)));

        foreach (var (heard, name) in new[] { (heardOnA, "A"), (heardOnB, "B") })
        {
            var changes = new List<CommittedChange>();
            while (changes.Count < (name == "A" ? 1 : 0) + (2 * appendsPerNode))
            {
                changes.Add(await heard.NextAsync($"node {name} to hear append {changes.Count + 1} of {2 * appendsPerNode}"));
            }

            var appended = changes.Where(c => c.Notice!.Kind == FeedNoticeKind.Updated).ToList();
            appended.SelectMany(c => c.Events).Select(e => e.Seq).ShouldBe(Enumerable.Range(2, 2 * appendsPerNode).Select(i => (long)i));
            appended.Select(c => c.Notice!.Id).ShouldBe(appended.Select(c => c.Notice!.Id).Order(), $"node {name}'s feed ids in commit order");
            appended.ShouldAllBe(c => c.Notice!.AppName == app && c.Notice!.UserId == "u" && c.Notice!.SessionId == session.Id);
        }

        var stored = await nodeB.ReadEventsAsync(session.Id, 1, 1000, Ct);
        heardOnB.Drain().ShouldBeEmpty();
        stored.Count.ShouldBe(2 * appendsPerNode);

        // A user's feed read back on either node is in the same order the listeners heard.
        var feed = await nodeB.ReadFeedAsync(app, "u", 0, 1000, Ct);
        feed.Count.ShouldBe(1 + (2 * appendsPerNode));
        feed.Select(n => n.LastSeq).ShouldBe(Enumerable.Range(1, 1 + (2 * appendsPerNode)).Select(i => (long)i));
    }

    [Fact]
    public async Task A_node_whose_LISTEN_connection_is_killed_reconnects_and_is_told_to_re_read()
    {
        var schema = fixture.SchemaOf(Unique("recovery"));
        var heardOnB = new RecordingListener();
        var nodeA = await fixture.OpenAsync(schema, null, Ct);
        var nodeB = await fixture.OpenAsync(schema, heardOnB, Ct);
        var relay = nodeB.Relay!;
        var session = await Service(nodeA).CreateAsync(Caller.System, new CreateSessionCommand { AppName = "a", UserId = "u" }, Ct);
        (await heardOnB.NextAsync("node B to hear the create")).Notice!.Kind.ShouldBe(FeedNoticeKind.Created);
        var cursor = 0L;

        var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconnect = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        relay.BeforeReconnect = () =>
        {
            dropped.TrySetResult();
            return reconnect.Task;
        };
        var killed = relay.BackendProcessId ?? throw new InvalidOperationException("Node B has no LISTEN connection.");
        await using (var admin = new NpgsqlConnection(TestDatabase.Require()))
        {
            await admin.OpenAsync(Ct);
            (await CountAsync(admin, "SELECT count(*) FROM pg_terminate_backend($1) WHERE pg_terminate_backend", killed)).ShouldBe(1);
        }

        await dropped.Task.WaitForAsync("node B to notice that its LISTEN connection was terminated");

        // While B is deaf, A commits, and B's own writes answer without waiting for an echo that cannot come.
        await Service(nodeA).AppendAsync(Caller.System, session.Id, new AppendEventsCommand { Events = [Event("while-deaf-a")] }, null, Ct);
        await Service(nodeB).AppendAsync(Caller.System, session.Id, new AppendEventsCommand { Events = [Event("while-deaf-b")] }, null, Ct)
            .WaitForAsync("an append on node B while its LISTEN connection is down");
        heardOnB.Drain().ShouldBeEmpty();

        reconnect.SetResult();
        await heardOnB.Missed.WaitForAsync("node B to reconnect and report that it may have missed commits");
        relay.BackendProcessId.ShouldNotBeNull().ShouldNotBe(killed);

        // What a stream does when told so: re-read after its cursor.
        var missed = await nodeB.ReadEventsAsync(session.Id, cursor, 100, Ct);
        missed.Select(TextOf).ShouldBe(["while-deaf-a", "while-deaf-b"]);
        cursor = missed[^1].Seq;

        // And live hints flow again.
        await Service(nodeA).AppendAsync(Caller.System, session.Id, new AppendEventsCommand { Events = [Event("after")] }, null, Ct);
        var live = await heardOnB.NextAsync("node B to hear an append made on node A after it reconnected");
        live.Events.Single().Seq.ShouldBe(cursor + 1);
        TextOf(live.Events.Single()).ShouldBe("after");
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, string sql, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Secrets_in_the_connection_string_are_never_printed()
    {
        var options = new PostgresStoreOptions { ConnectionString = "Host=db;Password=hunter2" };
        options.ToString().ShouldNotContain("hunter2");
    }

    [Fact]
    public void Unsound_options_are_refused_with_how_to_fix_them()
    {
        new PostgresStoreOptions().Validate().ShouldNotBeNull().ShouldContain("ConnectionString");
        new PostgresStoreOptions { ConnectionString = "Host=x", Schema = "Bad-Name" }.Validate().ShouldNotBeNull().ShouldContain("Schema");
        new PostgresStoreOptions { ConnectionString = "Host=x" }.Validate().ShouldBeNull();
    }
}
