using Sessiond.Storage.Conformance;

namespace Sessiond.Storage.Sqlite.Tests;

public sealed class SqliteAppendConformance(SqliteStoreFixture fixture)
    : AppendConformance(fixture), IClassFixture<SqliteStoreFixture>;

public sealed class SqliteStateConformance(SqliteStoreFixture fixture)
    : StateConformance(fixture), IClassFixture<SqliteStoreFixture>;

public sealed class SqliteListConformance(SqliteStoreFixture fixture)
    : ListConformance(fixture), IClassFixture<SqliteStoreFixture>;

public sealed class SqliteLifecycleConformance(SqliteStoreFixture fixture)
    : LifecycleConformance(fixture), IClassFixture<SqliteStoreFixture>;

public sealed class SqliteConcurrencyConformance(SqliteStoreFixture fixture)
    : ConcurrencyConformance(fixture), IClassFixture<SqliteStoreFixture>;

public sealed class SqliteFeedConformance(SqliteStoreFixture fixture)
    : FeedConformance(fixture), IClassFixture<SqliteStoreFixture>;

public sealed class SqliteTurnConformance(SqliteStoreFixture fixture)
    : TurnConformance(fixture), IClassFixture<SqliteStoreFixture>;

public sealed class SqliteLeaseConformance(SqliteStoreFixture fixture)
    : LeaseConformance(fixture), IClassFixture<SqliteStoreFixture>;
