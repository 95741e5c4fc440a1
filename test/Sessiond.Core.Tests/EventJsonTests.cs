using System.Text;
using System.Text.Json;
using Sessiond.Core.Events;
using Sessiond.Core.Json;
using Shouldly;

namespace Sessiond.Core.Tests;

public sealed class EventJsonTests
{
    [Fact]
    public void Unknown_fields_round_trip_at_every_level()
    {
        const string json = """
            {"id":"e1","author":"bot","branch":"root.sub","content":{"role":"model","parts":[{"text":"hi","thought":true},{"inlineData":{"mimeType":"image/png","data":"AA=="}}]},
             "actions":{"stateDelta":{"k":null},"skipSummarization":true},"longRunningToolIds":["c1"]}
            """;

        var evt = SessiondJson.DeserializeEvent(Encoding.UTF8.GetBytes(json));
        var written = JsonDocument.Parse(SessiondJson.SerializeEvent(evt)).RootElement;

        written.GetProperty("branch").GetString().ShouldBe("root.sub");
        written.GetProperty("longRunningToolIds")[0].GetString().ShouldBe("c1");
        written.GetProperty("content").GetProperty("parts")[0].GetProperty("thought").GetBoolean().ShouldBeTrue();
        written.GetProperty("content").GetProperty("parts")[1].GetProperty("inlineData").GetProperty("mimeType").GetString().ShouldBe("image/png");
        written.GetProperty("actions").GetProperty("skipSummarization").GetBoolean().ShouldBeTrue();
        written.GetProperty("actions").GetProperty("stateDelta").GetProperty("k").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9_007_199_254_740_993)]
    public void Splicing_a_seq_into_an_unsequenced_event_writes_what_serializing_it_with_that_seq_writes(long seq)
    {
        var full = new SessionEvent { Id = "e1", Author = "bot", Content = new EventContent { Role = "model" }, TurnComplete = true };
        var empty = new SessionEvent();

        SessiondJson.WithSeq(SessiondJson.SerializeEvent(full), seq).ShouldBe(SessiondJson.SerializeEvent(full with { Seq = seq }));
        SessiondJson.WithSeq(SessiondJson.SerializeEvent(empty), seq).ShouldBe(SessiondJson.SerializeEvent(empty with { Seq = seq }));
    }

    [Fact]
    public void Timestamps_are_written_as_utc_milliseconds_and_read_from_iso_or_unix_seconds()
    {
        var evt = new SessionEvent { Timestamp = DateTimeOffset.Parse("2026-11-21T12:00:00.1234+02:00", System.Globalization.CultureInfo.InvariantCulture) };

        var json = Encoding.UTF8.GetString(SessiondJson.SerializeEvent(evt));

        json.ShouldContain("\"timestamp\":\"2026-11-21T10:00:00.123Z\"");
        SessiondJson.DeserializeEvent("""{"timestamp":1795000000.5}"""u8).Timestamp.ShouldBe(DateTimeOffset.FromUnixTimeMilliseconds(1_795_000_000_500));
        Should.Throw<JsonException>(() => SessiondJson.DeserializeEvent("""{"timestamp":true}"""u8));
    }

    [Fact]
    public void Nulls_and_an_unassigned_seq_are_omitted()
    {
        Encoding.UTF8.GetString(SessiondJson.SerializeEvent(new SessionEvent { Author = "user" })).ShouldBe("""{"author":"user"}""");
    }
}
