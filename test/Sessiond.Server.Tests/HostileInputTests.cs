using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Shouldly;

namespace Sessiond.Server.Tests;

/// <summary>
/// A battery of malformed, oversized and hostile requests. Each must answer 4xx with a stable code (problem+json on the
/// native surface, ADK's <c>{"detail", "code"}</c> on the ADK surface), leave the server healthy, and change no stored data.
/// JSON escapes such as <c>\ud800</c> are written inside raw string literals, so the test data itself stays plain ASCII.
/// </summary>
public sealed class HostileInputTests(SessiondServer server) : IClassFixture<SessiondServer>
{
    private const int MaxBodyBytes = 8 * 1024 * 1024;

    private readonly HttpClient _http = server.Http;

    // ---- Native: malformed and mistyped bodies ----

    public static TheoryData<string, string> BadAppendBodies => new()
    {
        // Not JSON, or not the JSON an append takes.
        { "truncated", """{"events":[{"author":"user"}]""" },
        { "trailing garbage", """{"events":[{"author":"user"}]} trailing""" },
        { "two documents", """{"events":[{"author":"user"}]}{}""" },
        { "not JSON", "not json at all" },
        { "array", """[{"author":"user"}]""" },
        { "string", "\"events\"" },
        { "number", "42" },
        { "null", "null" },
        { "empty", "" },
        { "whitespace", "   \n  " },
        { "comment", """{"events":[{"author":"user"}] /* note */}""" },
        { "trailing comma", """{"events":[{"author":"user"},]}""" },
        { "single quotes", "{'events':[{'author':'user'}]}" },
        { "no events", "{}" },
        { "empty events", """{"events":[]}""" },
        { "null event", """{"events":[null]}""" },
        { "events object", """{"events":{}}""" },
        { "events string", """{"events":"x"}""" },
        // Wrong types and numbers out of range.
        { "expectedLastSeq string", """{"expectedLastSeq":"x","events":[{}]}""" },
        { "expectedLastSeq 1e400", """{"expectedLastSeq":1e400,"events":[{}]}""" },
        { "expectedLastSeq fraction", """{"expectedLastSeq":1.5,"events":[{}]}""" },
        { "expectedLastSeq negative", """{"expectedLastSeq":-1,"events":[{}]}""" },
        { "expectedLastSeq over int64", """{"expectedLastSeq":99999999999999999999,"events":[{}]}""" },
        { "expectedLastSeq true", """{"expectedLastSeq":true,"events":[{}]}""" },
        { "content number", """{"events":[{"content":5}]}""" },
        { "parts string", """{"events":[{"content":{"parts":"x"}}]}""" },
        { "text object", """{"events":[{"content":{"parts":[{"text":{}}]}}]}""" },
        { "author number", """{"events":[{"author":7}]}""" },
        { "turnComplete string", """{"events":[{"turnComplete":"yes"}]}""" },
        { "timestamp words", """{"events":[{"timestamp":"yesterday"}]}""" },
        { "timestamp negative", """{"events":[{"timestamp":-1}]}""" },
        { "timestamp 1e400", """{"events":[{"timestamp":1e400}]}""" },
        { "stateDelta array", """{"events":[{"actions":{"stateDelta":[1]}}]}""" },
        { "actions string", """{"events":[{"actions":"x"}]}""" },
        { "metadata array", """{"events":[{"metadata":[1]}]}""" },
        { "usage string", """{"events":[{"usage":{"inputTokens":"x"}}]}""" },
        { "usage negative tokens", """{"events":[{"usage":{"inputTokens":-1}}]}""" },
        { "usage negative cost", """{"events":[{"usage":{"cost":-0.5}}]}""" },
        { "usage cost 1e400", """{"events":[{"usage":{"cost":1e400}}]}""" },
        { "usage tokens over int64", """{"events":[{"usage":{"outputTokens":9223372036854775808}}]}""" },
        { "usage tokens sum overflows", """{"events":[{"usage":{"inputTokens":9223372036854775807}},{"usage":{"inputTokens":1}}]}""" },
        { "usage cost sum overflows", """{"events":[{"usage":{"cost":70000000000000000000000000000}},{"usage":{"cost":70000000000000000000000000000}}]}""" },
        // Rules on the contents.
        { "partial mixed with a final event", """{"events":[{"partial":true},{"author":"user"}]}""" },
        { "event id with space", """{"events":[{"id":"bad id"}]}""" },
        { "event id script", """{"events":[{"id":"<script>"}]}""" },
        { "event id empty", """{"events":[{"id":""}]}""" },
        { "invocationId SQL", """{"events":[{"invocationId":"' OR 1=1 --"}]}""" },
        { "state key empty", """{"events":[{"actions":{"stateDelta":{"":1}}}]}""" },
        { "state key 257", """{"events":[{"actions":{"stateDelta":{"KEY":1}}}]}""".Replace("KEY", new string('k', 257), StringComparison.Ordinal) },
        { "user: key 257", """{"events":[{"actions":{"stateDelta":{"user:KEY":1}}}]}""".Replace("KEY", new string('k', 252), StringComparison.Ordinal) },
        // Strings that are not valid Unicode: refused, never stored (and never a 500).
        { "lone high surrogate in a typed string", """{"events":[{"author":"\ud800"}]}""" },
        { "lone low surrogate in text", """{"events":[{"content":{"parts":[{"text":"a\udc00b"}]}}]}""" },
        { "lone surrogate in a state value", """{"events":[{"actions":{"stateDelta":{"k":"\ud800"}}}]}""" },
        { "lone surrogate in a state key", """{"events":[{"actions":{"stateDelta":{"\ud800":1}}}]}""" },
        { "lone surrogate in metadata", """{"events":[{"metadata":{"m":["x","\udbff"]}}]}""" },
        { "lone surrogate in an unknown field", """{"events":[{"customField":{"deep":"\ud800"}}]}""" },
        { "reversed surrogate pair", """{"events":[{"actions":{"stateDelta":{"k":"\udc00\ud800"}}}]}""" },
        { "bad escape", """{"events":[{"author":"\x41"}]}""" },
        { "raw control character", "{\"events\":[{\"author\":\"a\u0001b\"}]}" },
    };

    [Theory]
    [MemberData(nameof(BadAppendBodies))]
    public async Task A_bad_append_body_answers_400_and_changes_nothing(string name, string body)
    {
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);

        var response = await _http.PostAsync($"/v1/sessions/{id}/events", Json(body));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        problem.GetProperty("title").GetString().ShouldNotBeNullOrWhiteSpace(name);
        await ShouldBeUnchangedAsync(id, before);
    }

    [Fact]
    public async Task Bytes_that_are_not_UTF_8_answer_400_and_change_nothing()
    {
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);
        byte[][] bodies =
        [
            [.. "{\"events\":[{\"actions\":{\"stateDelta\":{\"k\":\""u8, 0xFF, 0xFE, .. "\"}}}]}"u8],
            [.. "{\"events\":[{\"content\":{\"parts\":[{\"text\":\""u8, 0xC3, .. "\"}]}}]}"u8],
            [.. "{\"events\":[{\"metadata\":{\""u8, 0xED, 0xA0, 0x80, .. "\":1}}]}"u8], // the UTF-8 form of a lone surrogate
        ];

        foreach (var body in bodies)
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            await (await _http.PostAsync($"/v1/sessions/{id}/events", content)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        }

        await ShouldBeUnchangedAsync(id, before);
    }

    [Fact]
    public async Task JSON_nested_deeper_than_64_levels_answers_400_and_changes_nothing()
    {
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);

        // events[0].metadata.m sits at depth 4, so 61 more arrays pass 64 and 65 of them do not.
        var deep = """{"events":[{"metadata":{"m":NESTED}}]}""".Replace("NESTED", new string('[', 65) + new string(']', 65), StringComparison.Ordinal);
        await (await _http.PostAsync($"/v1/sessions/{id}/events", Json(deep))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        var veryDeep = new string('[', 100_000) + new string(']', 100_000);
        await (await _http.PostAsync($"/v1/sessions/{id}/events", Json(veryDeep))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await ShouldBeUnchangedAsync(id, before);

        var shallowEnough = """{"events":[{"metadata":{"m":NESTED}}]}""".Replace("NESTED", new string('[', 59) + new string(']', 59), StringComparison.Ordinal);
        (await _http.PostAsync($"/v1/sessions/{id}/events", Json(shallowEnough))).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    public static TheoryData<string, string> BadCreateBodies => new()
    {
        { "truncated", """{"appName":"{app}","userId":"u" """ },
        { "trailing garbage", """{"appName":"{app}","userId":"u"} x""" },
        { "not JSON", "<session app='{app}'/>" },
        { "array", """[{"appName":"{app}","userId":"u"}]""" },
        { "string", "\"{app}\"" },
        { "number", "1" },
        { "null", "null" },
        { "empty", "" },
        { "no appName", """{"userId":"u"}""" },
        { "no userId", """{"appName":"{app}"}""" },
        { "userId number", """{"appName":"{app}","userId":5}""" },
        { "state array", """{"appName":"{app}","userId":"u","state":[1]}""" },
        { "state string", """{"appName":"{app}","userId":"u","state":"x"}""" },
        { "metadata number", """{"appName":"{app}","userId":"u","metadata":1}""" },
        { "events object", """{"appName":"{app}","userId":"u","events":{}}""" },
        { "appName with space", """{"appName":"{app} x","userId":"u"}""" },
        { "appName with slash", """{"appName":"{app}/x","userId":"u"}""" },
        { "appName 129", $$"""{"appName":"{app}{{new string('a', 129)}}","userId":"u"}""" },
        { "userId script", """{"appName":"{app}","userId":"<script>alert(1)</script>"}""" },
        { "userId NUL", """{"appName":"{app}","userId":"u\u0000"}""" },
        { "userId unicode", """{"appName":"{app}","userId":"\u00e9l\u00e8ve"}""" },
        { "userId SQL", """{"appName":"{app}","userId":"' OR 1=1 --"}""" },
        { "userId empty", """{"appName":"{app}","userId":""}""" },
        { "id with slash", """{"appName":"{app}","userId":"u","id":"x/y"}""" },
        { "id dot dot", """{"appName":"{app}","userId":"u","id":"../x"}""" },
        { "id 129", $$"""{"appName":"{app}","userId":"u","id":"{{new string('i', 129)}}"}""" },
        { "teamId space", """{"appName":"{app}","userId":"u","teamId":"t t","scope":"team"}""" },
        { "scope unknown", """{"appName":"{app}","userId":"u","scope":"everyone"}""" },
        { "team scope without team", """{"appName":"{app}","userId":"u","scope":"team"}""" },
        { "title 1025", $$"""{"appName":"{app}","userId":"u","title":"{{new string('t', 1025)}}"}""" },
        { "state key empty", """{"appName":"{app}","userId":"u","state":{"":1}}""" },
        { "state key 257", """{"appName":"{app}","userId":"u","state":{"KEY":1}}""".Replace("KEY", new string('k', 257), StringComparison.Ordinal) },
        { "state lone surrogate", """{"appName":"{app}","userId":"u","state":{"k":"\ud800"}}""" },
        { "partial initial event", """{"appName":"{app}","userId":"u","events":[{"partial":true}]}""" },
        { "1001 initial events", $$"""{"appName":"{app}","userId":"u","events":[{{string.Join(',', Enumerable.Repeat("{}", 1001))}}]}""" },
    };

    [Theory]
    [MemberData(nameof(BadCreateBodies))]
    public async Task A_bad_create_body_answers_400_and_creates_nothing(string name, string body)
    {
        var app = SessiondServer.NewId("app");

        var response = await _http.PostAsync("/v1/sessions", Json(body.Replace("{app}", app, StringComparison.Ordinal)));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        var list = await (await _http.GetAsync($"/v1/sessions?appName={app}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        list.GetProperty("sessions").GetArrayLength().ShouldBe(0, name);
        await ShouldBeHealthyAsync();
    }

    public static TheoryData<string, string> BadPatchBodies => new()
    {
        { "truncated", """{"title":"x" """ },
        { "not JSON", "title=x" },
        { "array", "[]" },
        { "null", "null" },
        { "empty", "" },
        { "starred string", """{"starred":"yes"}""" },
        { "starred number", """{"starred":1}""" },
        { "title number", """{"title":5}""" },
        { "title 1025", $$"""{"title":"{{new string('t', 1025)}}"}""" },
        { "metadata array", """{"metadata":[1]}""" },
        { "metadata lone surrogate", """{"metadata":{"m":"\ud800"}}""" },
    };

    [Theory]
    [MemberData(nameof(BadPatchBodies))]
    public async Task A_bad_patch_body_answers_400_and_changes_nothing(string name, string body)
    {
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);

        var response = await _http.PatchAsync($"/v1/sessions/{id}", Json(body));

        (await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request")).GetProperty("title").GetString().ShouldNotBeNull(name);
        await ShouldBeUnchangedAsync(id, before);
    }

    // ---- Native: sizes ----

    [Fact]
    public async Task A_body_over_8_MiB_with_a_content_length_answers_413_and_changes_nothing()
    {
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);

        // The server answers from the Content-Length alone, without reading the body. A client that asks first
        // (Expect: 100-continue, as large uploads should) gets that answer and never sends the body.
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sessions/{id}/events") { Content = Json(OversizedAppendBody()) };
        request.Headers.ExpectContinue = true;
        var response = await _http.SendAsync(request);

        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        await ShouldBeUnchangedAsync(id, before);
    }

    [Fact]
    public async Task A_body_over_8_MiB_sent_without_asking_first_changes_nothing()
    {
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);

        // The 413 comes while the client is still sending, and Kestrel then closes the connection rather than read
        // what is over the limit; HttpClient reports that as a failed send instead of returning the answer.
        try
        {
            var response = await _http.PostAsync($"/v1/sessions/{id}/events", Json(OversizedAppendBody()));
            await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        }
        catch (HttpRequestException)
        {
        }

        await ShouldBeUnchangedAsync(id, before);
    }

    [Fact]
    public async Task A_chunked_body_over_8_MiB_answers_413_and_changes_nothing()
    {
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sessions/{id}/events") { Content = new ChunkedJsonContent(OversizedAppendBody()) };
        var response = await _http.SendAsync(request);

        request.Headers.TransferEncodingChunked.ShouldBe(true);
        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        await ShouldBeUnchangedAsync(id, before);
    }

    [Fact]
    public async Task A_chunked_create_body_over_8_MiB_answers_413_and_creates_nothing()
    {
        var app = SessiondServer.NewId("app");
        var body = $$"""{"appName":"{{app}}","userId":"u","title":"{{new string('t', MaxBodyBytes)}}"}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/sessions") { Content = new ChunkedJsonContent(body) };

        await (await _http.SendAsync(request)).ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        var list = await (await _http.GetAsync($"/v1/sessions?appName={app}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        list.GetProperty("sessions").GetArrayLength().ShouldBe(0);
    }

    [Fact]
    public async Task One_event_over_1_MiB_answers_413_and_changes_nothing()
    {
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);
        var small = """{"author":"user","content":{"parts":[{"text":"fits"}]}}""";
        var large = """{"author":"user","content":{"parts":[{"text":"TEXT"}]}}""".Replace("TEXT", new string('x', 1024 * 1024), StringComparison.Ordinal);

        var response = await _http.PostAsync($"/v1/sessions/{id}/events", Json($$"""{"events":[{{small}},{{large}}]}"""));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        problem.GetProperty("title").GetString()!.ShouldContain("events[1]");
        await ShouldBeUnchangedAsync(id, before);
    }

    [Fact]
    public async Task More_than_1000_events_in_one_append_answers_400_and_changes_nothing()
    {
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);
        var events = string.Join(',', Enumerable.Repeat("""{"author":"user"}""", 1001));

        var response = await _http.PostAsync($"/v1/sessions/{id}/events", Json($$"""{"events":[{{events}}]}"""));

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await ShouldBeUnchangedAsync(id, before);

        var exactly1000 = string.Join(',', Enumerable.Repeat("""{"author":"user"}""", 1000));
        var accepted = await (await _http.PostAsync($"/v1/sessions/{id}/events", Json($$"""{"events":[{{exactly1000}}]}""")))
            .ShouldBeJsonAsync(HttpStatusCode.Created);
        accepted.GetProperty("events").GetArrayLength().ShouldBe(1000);
    }

    // ---- Native: ids in paths ----

    public static TheoryData<string> HostileSessionIdSegments => new()
    {
        new string('a', 129),
        "a%20b",
        "%20",
        "a%2Fb",
        "a%2F..%2F..%2Fetc%2Fpasswd",
        "%2E%2E%2Fx",
        "a%5Cb",
        "%C3%A9",
        "%E2%80%AEevil",
        "%F0%9F%98%80",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "'%20OR%201=1%20--",
        "x';DROP%20TABLE%20sessions;--",
        "a%09b",
        "a%0D%0Ab",
        "a;b",
        "a%25b",
        "a*",
        "unknown-but-valid-id",
    };

    [Theory]
    [MemberData(nameof(HostileSessionIdSegments))]
    public async Task An_unknown_or_invalid_session_id_answers_404_session_not_found_on_every_route(string segment)
    {
        var witness = await SeedSessionAsync();
        var before = await SnapshotAsync(witness);
        var path = $"/v1/sessions/{segment}";

        await (await _http.GetAsync(path)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        await (await _http.GetAsync(path + "/events")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        await (await _http.PostAsync(path + "/events", Json("""{"events":[{"author":"user"}]}"""))).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        await (await _http.PatchAsync(path, Json("""{"title":"t"}"""))).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");
        await (await _http.DeleteAsync(path)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "session_not_found");

        await ShouldBeUnchangedAsync(witness, before);
    }

    [Theory]
    [InlineData("/v1/sessions/..")]
    [InlineData("/v1/sessions/%2E%2E")]
    [InlineData("/v1/sessions/./.././../v1/sessions")]
    public async Task Dot_segments_never_reach_a_session(string path)
    {
        var response = await _http.GetAsync(path);

        response.StatusCode.ShouldBeOneOf(HttpStatusCode.NotFound, HttpStatusCode.OK);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            await response.ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
        }

        await ShouldBeHealthyAsync();
    }

    [Fact]
    public async Task A_NUL_in_the_path_is_refused_by_Kestrel_with_400_and_changes_nothing()
    {
        // Kestrel refuses a decoded NUL in the request target while parsing, before the application runs,
        // so this answer has no problem body; it is still a 4xx, and the server stays up.
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);

        (await _http.GetAsync($"/v1/sessions/{id}%00")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await _http.PostAsync($"/v1/sessions/{id}%00x/events", Json("""{"events":[{}]}"""))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await _http.DeleteAsync($"/v1/sessions/{id}%00")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);

        await ShouldBeUnchangedAsync(id, before);
    }

    // ---- Native: query parameters ----

    public static TheoryData<string> BadSessionQueries => new()
    {
        "limit=0", "limit=-1", "limit=abc", "limit=1.5", "limit=100000", "limit=99999999999999", "limit=%201", "limit=0x10",
        "afterSeq=-5", "afterSeq=x", "afterSeq=99999999999999999999", "afterSeq=1e3",
        "events=bogus", "events=ALL", "events=none%00",
        "limit=1&limit=2", "events=all&events=none", "afterSeq=1&afterSeq=1",
    };

    [Theory]
    [MemberData(nameof(BadSessionQueries))]
    public async Task A_bad_query_on_a_session_read_answers_400(string query)
    {
        var id = await SeedSessionAsync();

        await (await _http.GetAsync($"/v1/sessions/{id}?{query}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        if (!query.StartsWith("events", StringComparison.Ordinal))
        {
            await (await _http.GetAsync($"/v1/sessions/{id}/events?{query}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        }
    }

    public static TheoryData<string> BadListQueries => new()
    {
        "limit=0", "limit=-1", "limit=abc", "limit=1001", "limit=1&limit=2",
        "cursor=garbage", "cursor=AAAA", "cursor=%25%25%25", "cursor=" + InvalidIdCursor(),
        "starred=maybe", "starred=1", "starred=TRUE",
        "status=bogus", "status=IDLE", "scope=world",
        "appName=a%20b", "appName=" + new string('a', 129), "userId=%3Cscript%3E", "teamId=%27%20OR%201=1%20--",
        "appName=a&appName=b",
    };

    [Theory]
    [MemberData(nameof(BadListQueries))]
    public async Task A_bad_query_on_the_session_list_answers_400(string query)
    {
        await (await _http.GetAsync($"/v1/sessions?{query}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
    }

    // ---- Native: methods, routes, media types and headers ----

    [Theory]
    [InlineData("PUT", "/v1/sessions/{id}")]
    [InlineData("POST", "/v1/sessions/{id}")]
    [InlineData("DELETE", "/v1/sessions")]
    [InlineData("PUT", "/v1/sessions")]
    [InlineData("PUT", "/v1/sessions/{id}/events")]
    [InlineData("DELETE", "/v1/sessions/{id}/events")]
    [InlineData("POST", "/v1/apps")]
    [InlineData("POST", "/healthz")]
    [InlineData("PUT", "/apps/{app}/users/u/sessions/{id}")]
    [InlineData("PUT", "/api/apps/{app}/users/u/sessions")]
    [InlineData("POST", "/list-apps")]
    public async Task A_wrong_method_answers_405_with_allow_and_a_problem_body(string method, string template)
    {
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);
        using var request = new HttpRequestMessage(new HttpMethod(method), template.Replace("{id}", id, StringComparison.Ordinal).Replace("{app}", "app", StringComparison.Ordinal))
        {
            Content = Json("""{"events":[{"author":"user"}]}"""),
        };

        var response = await _http.SendAsync(request);

        await response.ShouldBeProblemAsync(HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        response.Content.Headers.Allow.ShouldNotBeEmpty();
        response.Content.Headers.Allow.ShouldNotContain(method);
        await ShouldBeUnchangedAsync(id, before);
    }

    [Theory]
    [InlineData("GET", "/v1/nope")]
    [InlineData("GET", "/v1/sessions/{id}/nope")]
    [InlineData("POST", "/v1/sessions/{id}/events/1")]
    [InlineData("GET", "/v2/sessions")]
    [InlineData("DELETE", "/nope")]
    [InlineData("GET", "/apps/a/users/u/nope")]
    [InlineData("GET", "/api/nope")]
    public async Task An_unknown_route_answers_404_not_found_with_a_problem_body(string method, string template)
    {
        var id = await SeedSessionAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), template.Replace("{id}", id, StringComparison.Ordinal));

        await (await _http.SendAsync(request)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/xml")]
    [InlineData("application/jsonx")]
    [InlineData("text/json-ish")]
    public async Task A_body_that_is_not_JSON_by_its_content_type_answers_unsupported_media_type(string contentType)
    {
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);
        var app = SessiondServer.NewId("app");

        await (await _http.PostAsync($"/v1/sessions/{id}/events", Body("""{"events":[{"author":"user"}]}""", contentType)))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "unsupported_media_type");
        await (await _http.PatchAsync($"/v1/sessions/{id}", Body("""{"title":"x"}""", contentType)))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "unsupported_media_type");
        await (await _http.PostAsync("/v1/sessions", Body($$"""{"appName":"{{app}}","userId":"u"}""", contentType)))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "unsupported_media_type");

        await ShouldBeUnchangedAsync(id, before);
        (await (await _http.GetAsync($"/v1/sessions?appName={app}")).ShouldBeJsonAsync(HttpStatusCode.OK)).GetProperty("sessions").GetArrayLength().ShouldBe(0);
    }

    [Theory]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("APPLICATION/JSON")]
    [InlineData("application/vnd.sessiond+json")]
    public async Task JSON_media_types_are_accepted(string contentType)
    {
        var id = await SeedSessionAsync();

        (await _http.PostAsync($"/v1/sessions/{id}/events", Body("""{"events":[{"author":"user"}]}""", contentType))).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    public static TheoryData<string> BadIdempotencyKeys => new()
    {
        "",
        " ",
        new string('k', 257),
        "has space",
        "tab\there",
        "trailing\u007f",
    };

    [Theory]
    [MemberData(nameof(BadIdempotencyKeys))]
    public async Task A_bad_idempotency_key_answers_400_and_changes_nothing(string key)
    {
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sessions/{id}/events") { Content = Json("""{"events":[{"author":"user"}]}""") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key).ShouldBeTrue();

        var response = await _http.SendAsync(request);

        // Kestrel itself refuses a DEL in a header value, before the application sees the request.
        if (key.Contains('\u007f', StringComparison.Ordinal))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        }
        else
        {
            await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        }

        await ShouldBeUnchangedAsync(id, before);
    }

    [Fact]
    public async Task A_256_character_idempotency_key_is_accepted()
    {
        var id = await SeedSessionAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sessions/{id}/events") { Content = Json("""{"events":[{"author":"user"}]}""") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", new string('k', 256));

        (await _http.SendAsync(request)).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("abc", null)]
    [InlineData("\"-1\"", null)]
    [InlineData("-1", null)]
    [InlineData("*", null)]
    [InlineData("\"99999999999999999999999\"", null)]
    [InlineData("\"1.5\"", null)]
    [InlineData("W/\"x\"", null)]
    [InlineData("\"\"", null)]
    [InlineData("\"1\", \"2\"", null)]
    [InlineData("\"3\"", 2L)]
    public async Task A_bad_if_match_answers_400_and_changes_nothing(string ifMatch, long? expectedLastSeqInBody)
    {
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);
        var body = expectedLastSeqInBody is { } expected
            ? $$"""{"expectedLastSeq":{{expected}},"events":[{"author":"user"}]}"""
            : """{"events":[{"author":"user"}]}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sessions/{id}/events") { Content = Json(body) };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch).ShouldBeTrue();

        await (await _http.SendAsync(request)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_request");

        await ShouldBeUnchangedAsync(id, before);
    }

    [Fact]
    public async Task A_stale_if_match_answers_409_and_changes_nothing()
    {
        var id = await SeedSessionAsync();
        var before = await SnapshotAsync(id);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/sessions/{id}/events") { Content = Json("""{"events":[{"author":"user"}]}""") };
        request.Headers.TryAddWithoutValidation("If-Match", "W/\"1\"");

        var problem = await (await _http.SendAsync(request)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "seq_conflict");

        problem.GetProperty("actualLastSeq").GetInt64().ShouldBe(SeededEventCount);
        await ShouldBeUnchangedAsync(id, before);
    }

    // ---- Hostile but valid data: stored and returned exactly ----

    [Fact]
    public async Task Hostile_but_valid_strings_round_trip_unchanged_on_both_surfaces()
    {
        var app = SessiondServer.NewId("app");
        var id = SessiondServer.NewId("s");
        string[] values =
        [
            "\u0000",
            "nul\u0000in the middle",
            string.Concat(Enumerable.Range(1, 31).Select(c => (char)c)),
            "\u007f\u0080\u009f",
            "\u202eevil\u202c right-to-left override, \u200f\u200e marks, \u2066isolate\u2069",
            "zero\u200bwidth\u200djoiner\ufeffbom",
            "\ud83d\ude00 surrogate pair, \U0001F9EA test tube",
            "\uffff\ufffe noncharacters",
            "<script>alert('x')</script>",
            "' OR 1=1 --; DROP TABLE events; --",
            "\"quotes\" \\backslashes\\ /slashes/ \b\f\n\r\t",
            "{\"looks\":\"like json\"}",
            "${jndi:ldap://x} {{template}} %s %n",
            new string('\u00e9', 20_000),
        ];
        var longKey = new string('k', 256);
        var state = new Dictionary<string, object>();
        for (var i = 0; i < values.Length; i++)
        {
            state[$"v{i}"] = values[i];
        }

        state[longKey] = "max length key";
        state["\u202ekey\u0000with\ud83d\ude00"] = "odd key";
        var evt = new Dictionary<string, object>
        {
            ["author"] = values[4],
            ["content"] = new Dictionary<string, object> { ["role"] = "user", ["parts"] = values.Select(v => new Dictionary<string, object> { ["text"] = v }).ToArray() },
            ["actions"] = new Dictionary<string, object> { ["stateDelta"] = state },
            ["metadata"] = new Dictionary<string, object> { ["m"] = values },
            ["customField"] = values,
        };
        (await _http.PostAsync("/v1/sessions", Json($$"""{"appName":"{{app}}","userId":"u","id":"{{id}}"}"""))).StatusCode.ShouldBe(HttpStatusCode.Created);

        var appended = await (await _http.PostAsync($"/v1/sessions/{id}/events", Json(JsonSerializer.Serialize(new { events = new[] { evt } }))))
            .ShouldBeJsonAsync(HttpStatusCode.Created);

        CheckEvent(appended.GetProperty("events")[0]);
        var native = await (await _http.GetAsync($"/v1/sessions/{id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        CheckEvent(native.GetProperty("events")[0]);
        CheckState(native.GetProperty("state"));
        var adk = await (await _http.GetAsync($"/apps/{app}/users/u/sessions/{id}")).ShouldBeJsonAsync(HttpStatusCode.OK);
        CheckEvent(adk.GetProperty("events")[0]);
        CheckState(adk.GetProperty("state"));

        void CheckEvent(JsonElement stored)
        {
            stored.GetProperty("author").GetString().ShouldBe(values[4]);
            stored.GetProperty("content").GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("text").GetString()).ShouldBe(values);
            CheckState(stored.GetProperty("actions").GetProperty("stateDelta"));
            stored.GetProperty("customField").EnumerateArray().Select(v => v.GetString()).ShouldBe(values);
        }

        void CheckState(JsonElement stored)
        {
            foreach (var (key, value) in state)
            {
                stored.GetProperty(key).GetString().ShouldBe((string)value, $"state key of length {key.Length}");
            }
        }
    }

    // ---- The ADK surface (at the root and under /api) ----

    public static TheoryData<string, string> AdkPrefixedBadCreateBodies()
    {
        string[] bodies =
        [
            """{"sessionId":""",
            """{"sessionId":"x"} trailing""",
            "not json",
            """[{"sessionId":"x"}]""",
            "\"x\"",
            "7",
            """{"sessionId":5}""",
            """{"sessionId":"a b"}""",
            """{"sessionId":"<script>"}""",
            """{"session_id":"../../x"}""",
            $$"""{"sessionId":"{{new string('s', 129)}}"}""",
            """{"state":[1]}""",
            """{"state":{"":1}}""",
            """{"state":{"KEY":1}}""".Replace("KEY", new string('k', 257), StringComparison.Ordinal),
            """{"state":{"k":"\ud800"}}""",
            """{"events":[{"partial":true}]}""",
            """{"events":{}}""",
        ];
        var data = new TheoryData<string, string>();
        foreach (var prefix in new[] { "", "/api" })
        {
            foreach (var body in bodies)
            {
                data.Add(prefix, body);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AdkPrefixedBadCreateBodies))]
    public async Task ADK_create_with_a_bad_body_answers_422_in_ADK_shape_and_creates_nothing(string prefix, string body)
    {
        var app = SessiondServer.NewId("app");

        var response = await _http.PostAsync($"{prefix}/apps/{app}/users/u/sessions", Json(body));

        await ShouldBeAdkErrorAsync(response, HttpStatusCode.UnprocessableEntity, "invalid_request");
        var list = await (await _http.GetAsync($"{prefix}/apps/{app}/users/u/sessions")).ShouldBeJsonAsync(HttpStatusCode.OK);
        list.GetArrayLength().ShouldBe(0);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/api")]
    public async Task ADK_routes_refuse_bad_input_in_ADK_shape_and_change_nothing(string prefix)
    {
        var app = SessiondServer.NewId("app");
        var id = SessiondServer.NewId("adk");
        var url = $"{prefix}/apps/{app}/users/u/sessions/{id}";
        (await _http.PostAsync(url, Json("""{"k":1}"""))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await _http.PatchAsync(url, Json("""{"stateDelta":{"k":2}}"""))).StatusCode.ShouldBe(HttpStatusCode.OK);
        var before = await (await _http.GetAsync(url)).Content.ReadAsStringAsync();

        // Bodies of PATCH (stateDelta) and of create-with-id (the initial state).
        foreach (var body in new[] { "", "null", "[]", "{\"stateDelta\":5}", "{}", "{\"stateDelta\":{\"\":1}}", """{"stateDelta":{"k":"\udfff"}}""", "{\"stateDelta\":" })
        {
            await ShouldBeAdkErrorAsync(await _http.PatchAsync(url, Json(body)), HttpStatusCode.UnprocessableEntity, "invalid_request");
        }

        await ShouldBeAdkErrorAsync(await _http.PatchAsync(url, Body("""{"stateDelta":{"k":3}}""", "text/plain")), HttpStatusCode.UnprocessableEntity, "unsupported_media_type");
        foreach (var body in new[] { "[1]", "\"x\"", "{\"k\":", """{"k":"\ud800"}""", "{\"\":1}" })
        {
            await ShouldBeAdkErrorAsync(await _http.PostAsync($"{prefix}/apps/{app}/users/u/sessions/{SessiondServer.NewId("n")}", Json(body)), HttpStatusCode.UnprocessableEntity, "invalid_request");
        }

        // Oversized, with and without a Content-Length.
        var huge = """{"stateDelta":{"k":"TEXT"}}""".Replace("TEXT", new string('x', MaxBodyBytes), StringComparison.Ordinal);
        using (var request = new HttpRequestMessage(HttpMethod.Patch, url) { Content = Json(huge) })
        {
            request.Headers.ExpectContinue = true;
            await ShouldBeAdkErrorAsync(await _http.SendAsync(request), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        }

        await ShouldBeAdkErrorAsync(await _http.PatchAsync(url, new ChunkedJsonContent(huge)), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        // Invalid ids and names in the path.
        foreach (var segment in new[] { "%3Cscript%3E", "'%20OR%201=1%20--", new string('a', 129), "a%2Fb", "%C3%A9", "a%20b" })
        {
            await ShouldBeAdkErrorAsync(await _http.GetAsync($"{prefix}/apps/{app}/users/u/sessions/{segment}"), HttpStatusCode.NotFound, "session_not_found");
            await ShouldBeAdkErrorAsync(await _http.PatchAsync($"{prefix}/apps/{app}/users/u/sessions/{segment}", Json("""{"stateDelta":{"k":9}}""")), HttpStatusCode.NotFound, "session_not_found");
            (await _http.DeleteAsync($"{prefix}/apps/{app}/users/u/sessions/{segment}")).StatusCode.ShouldBe(HttpStatusCode.OK);
            await ShouldBeAdkErrorAsync(await _http.GetAsync($"{prefix}/apps/{segment}/users/u/sessions"), HttpStatusCode.UnprocessableEntity, "invalid_request");
            await ShouldBeAdkErrorAsync(await _http.PostAsync($"{prefix}/apps/{app}/users/{segment}/sessions", Json("{}")), HttpStatusCode.UnprocessableEntity, "invalid_request");
            await ShouldBeAdkErrorAsync(await _http.PostAsync($"{prefix}/apps/{app}/users/u/sessions/{segment}", Json("{}")), HttpStatusCode.UnprocessableEntity, "invalid_request");
        }

        await ShouldBeAdkErrorAsync(await _http.GetAsync($"{prefix}/apps/{app}/users/u/sessions/unknown-{id}"), HttpStatusCode.NotFound, "session_not_found");

        // The same session addressed under another user or app is missing, whatever the request.
        await ShouldBeAdkErrorAsync(await _http.PatchAsync($"{prefix}/apps/{app}/users/intruder/sessions/{id}", Json("""{"stateDelta":{"k":9}}""")), HttpStatusCode.NotFound, "session_not_found");
        (await _http.DeleteAsync($"{prefix}/apps/other/users/u/sessions/{id}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        await ShouldBeAdkErrorAsync(await _http.PostAsync(url, Json("{}")), HttpStatusCode.Conflict, "session_exists");

        (await (await _http.GetAsync(url)).Content.ReadAsStringAsync()).ShouldBe(before);
        await ShouldBeHealthyAsync();
    }

    // ---- Helpers ----

    private const int SeededEventCount = 3;

    /// <summary>A session with initial state, metadata and three events, so that any change would show in its snapshot.</summary>
    private async Task<string> SeedSessionAsync()
    {
        var id = SessiondServer.NewId("victim");
        var created = await _http.PostAsync("/v1/sessions", Json($$"""
            {"id":"{{id}}","appName":"{{SessiondServer.NewId("app")}}","userId":"victim","title":"seeded",
             "state":{"k":1,"user:u":"x","app:a":[1,2]},"metadata":{"m":"v"} }
            """));
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        var appended = await _http.PostAsync($"/v1/sessions/{id}/events", Json("""
            {"events":[
              {"author":"user","content":{"role":"user","parts":[{"text":"one"}]}},
              {"author":"bot","content":{"role":"model","parts":[{"text":"two"}]},"actions":{"stateDelta":{"k":2}},"usage":{"inputTokens":1,"outputTokens":2,"cost":0.25}},
              {"author":"bot","turnComplete":true,"metadata":{"n":3}}
            ]}
            """));
        appended.StatusCode.ShouldBe(HttpStatusCode.Created);
        return id;
    }

    /// <summary>Everything a read of the session returns, events included: any stored change shows as a difference.</summary>
    private async Task<string> SnapshotAsync(string id)
    {
        var response = await _http.GetAsync($"/v1/sessions/{id}?events=all");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    private async Task ShouldBeUnchangedAsync(string id, string before)
    {
        await ShouldBeHealthyAsync();
        var after = await SnapshotAsync(id);
        after.ShouldBe(before);
        using var document = JsonDocument.Parse(after);
        document.RootElement.GetProperty("lastSeq").GetInt64().ShouldBe(SeededEventCount);
        document.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("seq").GetInt64()).ShouldBe([1L, 2L, 3L]);
    }

    private async Task ShouldBeHealthyAsync() =>
        (await _http.GetAsync("/healthz")).StatusCode.ShouldBe(HttpStatusCode.OK);

    private static async Task ShouldBeAdkErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(status, text);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/json", text);
        using var document = JsonDocument.Parse(text);
        document.RootElement.GetProperty("detail").GetString().ShouldNotBeNullOrWhiteSpace(text);
        document.RootElement.GetProperty("code").GetString().ShouldBe(code, text);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static StringContent Body(string body, string contentType)
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    private static string OversizedAppendBody() =>
        """{"events":[{"author":"user","content":{"parts":[{"text":"TEXT"}]}}]}""".Replace("TEXT", new string('x', MaxBodyBytes), StringComparison.Ordinal);

    /// <summary>A cursor that decodes, but to an id that is not a valid id.</summary>
    private static string InvalidIdCursor()
    {
        var bytes = new byte[8 + 3];
        "a b"u8.CopyTo(bytes.AsSpan(8));
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>JSON sent without a Content-Length, so the server can only find the size by reading.</summary>
    private sealed class ChunkedJsonContent : HttpContent
    {
        private readonly byte[] _bytes;

        public ChunkedJsonContent(string json)
        {
            _bytes = Encoding.UTF8.GetBytes(json);
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < _bytes.Length; offset += 64 * 1024)
            {
                await stream.WriteAsync(_bytes.AsMemory(offset, Math.Min(64 * 1024, _bytes.Length - offset)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
