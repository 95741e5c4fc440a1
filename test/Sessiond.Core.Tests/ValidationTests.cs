using Sessiond.Core.Errors;
using Sessiond.Core.Sessions;
using Sessiond.Core.Validation;
using Shouldly;

namespace Sessiond.Core.Tests;

public sealed class ValidationTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("Az09._:@-")]
    [InlineData("ses_01JD0000000000000000000000")]
    public void Valid_ids(string id) => Ids.IsValid(id).ShouldBeTrue();

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("é")]
    [InlineData("a\0")]
    [InlineData("<script>")]
    [InlineData("' OR 1=1 --")]
    public void Invalid_ids(string id) => Ids.IsValid(id).ShouldBeFalse();

    [Fact]
    public void Ids_are_at_most_128_characters()
    {
        Ids.IsValid(new string('a', 128)).ShouldBeTrue();
        Ids.IsValid(new string('a', 129)).ShouldBeFalse();
        Should.Throw<SessiondException>(() => Ids.Require(new string('a', 129), "id")).Code.ShouldBe(ErrorCodes.InvalidRequest);
    }

    [Fact]
    public void Generated_ids_are_valid_prefixed_and_time_ordered()
    {
        var time = new ManualTime(DateTimeOffset.Parse("2026-11-21T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var first = IdGenerator.NewId("evt", time);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var second = IdGenerator.NewId("evt", time);

        first.ShouldStartWith("evt_");
        first.Length.ShouldBe(30);
        Ids.IsValid(first).ShouldBeTrue();
        string.CompareOrdinal(first, second).ShouldBeLessThan(0);
    }

    [Fact]
    public void Cursors_round_trip_and_garbage_is_invalid_request()
    {
        var cursor = new SessionCursor(1_795_000_000_123, "ses_abc");

        SessionCursor.Decode(cursor.Encode()).ShouldBe(cursor);
        Should.Throw<SessiondException>(() => SessionCursor.Decode("%%%")).Code.ShouldBe(ErrorCodes.InvalidRequest);
        Should.Throw<SessiondException>(() => SessionCursor.Decode("AAAA")).Code.ShouldBe(ErrorCodes.InvalidRequest);
    }

    [Fact]
    public void Default_limits_are_sound_and_a_bad_one_is_named()
    {
        new SessiondLimits().Validate().ShouldBeNull();
        new SessiondLimits { MaxJsonDepth = 0 }.Validate()!.ShouldContain("MaxJsonDepth");
    }

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
