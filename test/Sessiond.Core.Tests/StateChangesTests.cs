using System.Text.Json;
using Sessiond.Core.State;
using Shouldly;

namespace Sessiond.Core.Tests;

public sealed class StateChangesTests
{
    private static JsonElement J(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static Dictionary<string, JsonElement> Map(params (string Key, string Json)[] entries) =>
        entries.ToDictionary(e => e.Key, e => J(e.Json));

    [Fact]
    public void Deltas_split_by_prefix_and_temp_keys_are_dropped()
    {
        var changes = StateChanges.FromDeltas([Map(("app:a", "1"), ("user:u", "2"), ("s", "3"), ("temp:t", "4"))]);

        changes.App.Keys.ShouldBe(["a"]);
        changes.User.Keys.ShouldBe(["u"]);
        changes.Session.Keys.ShouldBe(["s"]);
    }

    [Fact]
    public void Later_deltas_win_and_null_is_kept_as_a_delete()
    {
        var changes = StateChanges.FromDeltas([Map(("k", "1"), ("gone", "5")), null, Map(("k", "2"), ("gone", "null"))]);

        changes.Session["k"].GetInt32().ShouldBe(2);
        changes.Session["gone"].ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact]
    public void Only_temp_keys_make_no_changes()
    {
        StateChanges.FromDeltas([Map(("temp:x", "1"))]).IsEmpty.ShouldBeTrue();
    }

    [Fact]
    public void Apply_sets_values_and_null_deletes()
    {
        var stored = Map(("keep", "1"), ("drop", "2"));

        var result = StateChanges.Apply(stored, Map(("drop", "null"), ("add", "\"x\"")));

        result.Keys.Order().ShouldBe(["add", "keep"]);
        stored.Count.ShouldBe(2);
    }

    [Fact]
    public void Merge_restores_the_prefixes()
    {
        var merged = StateChanges.Merge(Map(("s", "1")), Map(("u", "2")), Map(("a", "3")));

        merged.Keys.Order().ShouldBe(["app:a", "s", "user:u"]);
    }
}
