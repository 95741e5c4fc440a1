using System.Globalization;
using System.Text.Json;

namespace Sessiond.Server.Tests;

/// <summary>
/// One Server-Sent Events frame as a client sees it: its own <c>id:</c> (null when the frame had none), its
/// <c>event:</c> name (<c>message</c> when it had none) and its <c>data:</c> lines joined by line feeds. A comment line
/// (<c>: ping</c>) is reported as a frame of its own with <see cref="IsComment"/> set and the text in <see cref="Data"/>.
/// </summary>
public sealed record SseFrame(string? Id, string? Event, string Data, bool IsComment = false)
{
    /// <summary>The frame's id as a number: the seq of an <c>event</c> frame, the feed id of a notice.</summary>
    public long Seq => Id is { } id
        ? long.Parse(id, NumberStyles.None, CultureInfo.InvariantCulture)
        : throw new InvalidOperationException($"The '{Event}' frame has no id: {Data}");

    /// <summary>The data parsed as JSON.</summary>
    public JsonElement Json => JsonDocument.Parse(Data).RootElement.Clone();

    public override string ToString() => IsComment ? $": {Data}" : $"id={Id ?? "-"} event={Event} data={Data}";
}
