namespace Sessiond.Core.Events;

/// <summary>
/// A committed event as the store holds it: its sequence number and its UTF-8 JSON (which includes <c>seq</c>).
/// Surfaces that speak the native shape write <see cref="Json"/> as it is, so an event is serialised once.
/// </summary>
public sealed record StoredEvent(long Seq, byte[] Json)
{
    /// <summary>Parses the stored JSON into the typed event.</summary>
    public SessionEvent ToEvent() => Sessiond.Core.Json.SessiondJson.DeserializeEvent(Json);
}
