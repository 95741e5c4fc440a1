using Microsoft.Data.Sqlite;
using Sessiond.Core.Sessions;
using Shouldly;

namespace Sessiond.Storage.Sqlite.Tests;

/// <summary>
/// Every list filter the surfaces use seeks an index whose order is the list order, so the first page of a user with
/// 100,000 sessions reads about one page of rows. Checked on the plan, since speed belongs to benchmarks.
/// </summary>
public sealed class QueryPlanTests(SqliteStoreFixture fixture) : IClassFixture<SqliteStoreFixture>
{
    private static readonly SessionCursor Cursor = new(1_700_000_000_000, "ses-cursor");

    public static TheoryData<string, string> Queries => new()
    {
        { "app+user", "sessions_by_user" },
        { "app+user+after", "sessions_by_user" },
        { "app+user+status+after", "sessions_by_user" },
        { "app+user+starred", "sessions_starred" },
        { "app+user+starred+after", "sessions_starred" },
        { "app+user+unstarred+after", "sessions_by_user" },
        { "app", "sessions_by_app" },
        { "app+after", "sessions_by_app" },
        { "app+scope+after", "sessions_by_app" },
        { "user", "sessions_by_owner" },
        { "user+after", "sessions_by_owner" },
        { "team", "sessions_by_team" },
        { "team+app+after", "sessions_by_team" },
        { "", "sessions_by_updated" },
        { "after", "sessions_by_updated" },
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task List_query_seeks_an_index_in_list_order(string filters, string index)
    {
        var plan = await ExplainAsync(QueryOf(filters));

        // With no filter and no cursor the whole index is the range, so SQLite calls it a scan; it still stops after a page.
        var access = filters.Length == 0 ? "SCAN" : "SEARCH";
        plan[0].ShouldStartWith($"{access} s USING INDEX {index}", customMessage: string.Join(" | ", plan));
        plan.ShouldNotContain(line => line.Contains("TEMP B-TREE", StringComparison.Ordinal), string.Join(" | ", plan));
        if (filters.Contains("after", StringComparison.Ordinal))
        {
            // The cursor is part of the seek, not a filter over the rows before it.
            plan[0].ShouldContain("(updated_at,id)<(?,?)");
        }
    }

    [Fact]
    public async Task Listing_joins_user_and_app_state_by_primary_key()
    {
        var plan = await ExplainAsync(QueryOf("app+user"));

        plan.ShouldContain(line => line.StartsWith("SEARCH u USING INDEX", StringComparison.Ordinal));
        plan.ShouldContain(line => line.StartsWith("SEARCH a USING INDEX", StringComparison.Ordinal));
    }

    private static SessionQuery QueryOf(string filters)
    {
        var parts = filters.Split('+', StringSplitOptions.RemoveEmptyEntries);
        return new SessionQuery
        {
            AppName = parts.Contains("app") ? "app" : null,
            UserId = parts.Contains("user") ? "user" : null,
            TeamId = parts.Contains("team") ? "team" : null,
            Scope = parts.Contains("scope") ? SessionScope.Team : null,
            Status = parts.Contains("status") ? SessionStatus.Idle : null,
            Starred = parts.Contains("starred") ? true : parts.Contains("unstarred") ? false : null,
            After = parts.Contains("after") ? Cursor : null,
        };
    }

    private async Task<List<string>> ExplainAsync(SessionQuery query)
    {
        var store = (SqliteSessionStore)fixture.Store;
        await using var connection = new SqliteConnection($"Data Source={store.Options.DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        SqliteSessionStore.PrepareListCommand(command, query);
        command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        var plan = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            plan.Add(reader.GetString(3));
        }

        return plan;
    }
}
