using Sessiond.Storage.Conformance;

namespace Sessiond.Storage.Postgres.Tests;

public sealed class PostgresAppendConformance(PostgresStoreFixture fixture)
    : AppendConformance(fixture), IClassFixture<PostgresStoreFixture>;

public sealed class PostgresStateConformance(PostgresStoreFixture fixture)
    : StateConformance(fixture), IClassFixture<PostgresStoreFixture>;

public sealed class PostgresListConformance(PostgresStoreFixture fixture)
    : ListConformance(fixture), IClassFixture<PostgresStoreFixture>;

public sealed class PostgresLifecycleConformance(PostgresStoreFixture fixture)
    : LifecycleConformance(fixture), IClassFixture<PostgresStoreFixture>;

public sealed class PostgresConcurrencyConformance(PostgresStoreFixture fixture)
    : ConcurrencyConformance(fixture), IClassFixture<PostgresStoreFixture>;

public sealed class PostgresFeedConformance(PostgresStoreFixture fixture)
    : FeedConformance(fixture), IClassFixture<PostgresStoreFixture>;

public sealed class PostgresTurnConformance(PostgresStoreFixture fixture)
    : TurnConformance(fixture), IClassFixture<PostgresStoreFixture>;

public sealed class PostgresLeaseConformance(PostgresStoreFixture fixture)
    : LeaseConformance(fixture), IClassFixture<PostgresStoreFixture>;
