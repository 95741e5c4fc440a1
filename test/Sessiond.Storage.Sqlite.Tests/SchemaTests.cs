using Sessiond.Core.Access;
using Microsoft.Data.Sqlite;
using Sessiond.Core.Sessions;
using Sessiond.Core.Validation;
using Sessiond.Storage.Sqlite.Schema;
using Shouldly;

namespace Sessiond.Storage.Sqlite.Tests;

/// <summary>The file on disk: schema versioning and migrations, WAL mode, and option validation.</summary>
public sealed class SchemaTests(SqliteStoreFixture fixture) : IClassFixture<SqliteStoreFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Initialize_creates_the_folder_and_records_every_migration_once()
    {
        var name = $"schema-{Guid.NewGuid():N}";
        Directory.Exists(fixture.DirectoryOf(name)).ShouldBeFalse();

        var store = await fixture.OpenAsync(name, new SqliteStoreOptions(), Ct);

        File.Exists(Path.Combine(fixture.DirectoryOf(name), SqliteStoreOptions.FileName)).ShouldBeTrue();
        store.Options.DatabasePath.ShouldBe(Path.Combine(fixture.DirectoryOf(name), "sessiond.db"));
        var versions = await QueryAsync(store, "SELECT version FROM schema_version ORDER BY version", r => r.GetInt32(0));
        versions.ShouldBe(Enumerable.Range(1, SqliteSchema.LatestVersion));
        await fixture.CloseStoreAsync(store);
        File.Exists(store.Options.DatabasePath + "-wal").ShouldBeFalse("a clean shutdown checkpoints the WAL into the file");
    }

    [Fact]
    public async Task Reinitialising_an_existing_database_keeps_its_data_and_applies_nothing_twice()
    {
        var name = $"schema-{Guid.NewGuid():N}";
        var first = await fixture.OpenAsync(name, new SqliteStoreOptions(), Ct);
        var service = new SessionService(first, new SessiondLimits(), TimeProvider.System);
        var session = await service.CreateAsync(Caller.System, new CreateSessionCommand { AppName = "app", UserId = "user" }, Ct);
        await first.InitializeAsync(Ct);
        await fixture.CloseStoreAsync(first);

        var second = await fixture.OpenAsync(name, new SqliteStoreOptions(), Ct);
        await second.InitializeAsync(Ct);

        (await second.GetSessionAsync(session.Id, Ct)).ShouldNotBeNull();
        var versions = await QueryAsync(second, "SELECT version FROM schema_version ORDER BY version", r => r.GetInt32(0));
        versions.ShouldBe(Enumerable.Range(1, SqliteSchema.LatestVersion));
        await fixture.CloseStoreAsync(second);
    }

    [Fact]
    public async Task A_database_from_a_newer_build_is_refused_with_a_fix()
    {
        var name = $"schema-{Guid.NewGuid():N}";
        var store = await fixture.OpenAsync(name, new SqliteStoreOptions(), Ct);
        var path = store.Options.DatabasePath;
        await fixture.CloseStoreAsync(store);
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES (999, 0)";
            await command.ExecuteNonQueryAsync(Ct);
        }

        var error = await Should.ThrowAsync<InvalidOperationException>(() => fixture.OpenAsync(name, new SqliteStoreOptions(), Ct));

        error.Message.ShouldContain("version 999");
        error.Message.ShouldContain("Upgrade Sessiond");
    }

    [Fact]
    public async Task The_database_is_in_wal_mode()
    {
        var store = (SqliteSessionStore)fixture.Store;

        var mode = await QueryAsync(store, "PRAGMA journal_mode", r => r.GetString(0));

        mode.ShouldBe(["wal"]);
        File.Exists(store.Options.DatabasePath + "-wal").ShouldBeTrue();
    }

    [Fact]
    public async Task Synchronous_full_is_accepted_in_any_case()
    {
        var store = await fixture.OpenAsync($"full-{Guid.NewGuid():N}", new SqliteStoreOptions { Synchronous = "full" }, Ct);
        var service = new SessionService(store, new SessiondLimits(), TimeProvider.System);

        var session = await service.CreateAsync(Caller.System, new CreateSessionCommand { AppName = "app", UserId = "user" }, Ct);

        (await store.GetSessionAsync(session.Id, Ct)).ShouldNotBeNull();
        await fixture.CloseStoreAsync(store);
    }

    [Theory]
    [InlineData("OFF", 256, "Synchronous must be NORMAL (default) or FULL")]
    [InlineData("NORMAL", 0, "MaxBatchSize must be 1-10000")]
    public void Unsound_options_are_refused_with_a_fix(string synchronous, int maxBatchSize, string message)
    {
        var options = new SqliteStoreOptions { Synchronous = synchronous, MaxBatchSize = maxBatchSize };

        var error = Should.Throw<ArgumentException>(() => new SqliteSessionStore(options));

        error.Message.ShouldContain(message);
    }

    [Fact]
    public void Default_options_are_sound()
    {
        var options = new SqliteStoreOptions();

        options.Validate().ShouldBeNull();
        options.DataDirectory.ShouldBe("./data");
        options.Synchronous.ShouldBe("NORMAL");
    }

    [Fact]
    public async Task Using_the_store_before_initialize_says_so()
    {
        await using var store = new SqliteSessionStore(new SqliteStoreOptions { DataDirectory = fixture.DirectoryOf("never") });

        var error = await Should.ThrowAsync<InvalidOperationException>(() => store.GetSessionAsync("x", Ct));

        error.Message.ShouldContain("InitializeAsync");
        Directory.Exists(fixture.DirectoryOf("never")).ShouldBeFalse();
    }

    private static async Task<List<T>> QueryAsync<T>(SqliteSessionStore store, string sql, Func<SqliteDataReader, T> read)
    {
        await using var connection = new SqliteConnection($"Data Source={store.Options.DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<T>();
        while (await reader.ReadAsync(Ct))
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
