using System.Collections.Concurrent;

namespace Sessiond.Server.Auth;

/// <summary>
/// Remembers the signatures accepted inside the clock window, so a captured request cannot be sent again. An entry
/// lives until its request's timestamp leaves the window (<c>timestamp + MaxSkewSeconds</c>); after that the timestamp
/// check refuses the request anyway. Expired entries are swept at most once per sweep interval, on the way through
/// <see cref="TryAccept"/>, so memory stays bounded by the accepted request rate times the window (at most twice the
/// skew, for a timestamp from the future) plus one interval. Only signatures that verified reach the cache, so only a
/// holder of a secret can fill it.
/// </summary>
public sealed class HmacReplayCache(TimeProvider time)
{
    private const long SweepIntervalSeconds = 10;

    /// <summary>Verified digest (lowercase hex) to the unix second after which it may be forgotten.</summary>
    private readonly ConcurrentDictionary<string, long> _accepted = new(StringComparer.Ordinal);
    private long _nextSweep;

    /// <summary>How many signatures are remembered now (expired ones linger until the next sweep).</summary>
    public int Count => _accepted.Count;

    /// <summary>
    /// Records a verified signature as accepted until <paramref name="expiresAt"/> (unix seconds). False when the same
    /// signature was already accepted and has not expired: a replay.
    /// </summary>
    public bool TryAccept(string digest, long expiresAt)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        SweepIfDue(now);
        while (true)
        {
            if (_accepted.TryAdd(digest, expiresAt))
            {
                return true;
            }

            if (_accepted.TryGetValue(digest, out var existing))
            {
                if (existing >= now)
                {
                    return false;
                }

                // An expired entry no sweep has reached yet; the compare-and-swap lets one of two racing requests win.
                if (_accepted.TryUpdate(digest, expiresAt, existing))
                {
                    return true;
                }
            }
        }
    }

    private void SweepIfDue(long now)
    {
        var due = Interlocked.Read(ref _nextSweep);
        if (now < due || Interlocked.CompareExchange(ref _nextSweep, now + SweepIntervalSeconds, due) != due)
        {
            return;
        }

        foreach (var (digest, expiresAt) in _accepted)
        {
            if (expiresAt < now)
            {
                // Removes only the value seen, so a signature re-accepted meanwhile stays.
                _accepted.TryRemove(new KeyValuePair<string, long>(digest, expiresAt));
            }
        }
    }
}
