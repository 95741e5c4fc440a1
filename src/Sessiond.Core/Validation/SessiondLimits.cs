namespace Sessiond.Core.Validation;

/// <summary>Size and shape limits on what clients send. Every one is configurable under <c>Sessiond:Limits</c>.</summary>
public sealed record SessiondLimits
{
    /// <summary>The largest request body, in bytes.</summary>
    public long MaxRequestBodyBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>The largest single event, as JSON, in bytes.</summary>
    public int MaxEventBytes { get; init; } = 1024 * 1024;

    /// <summary>The deepest JSON nesting accepted in a request.</summary>
    public int MaxJsonDepth { get; init; } = 64;

    /// <summary>The most events in one append or create.</summary>
    public int MaxEventsPerAppend { get; init; } = 1000;

    /// <summary>The longest session title, in characters.</summary>
    public int MaxTitleLength { get; init; } = 1024;

    /// <summary>The longest <c>Idempotency-Key</c>, in characters.</summary>
    public int MaxIdempotencyKeyLength { get; init; } = 256;

    /// <summary>The page size when a list asks for none.</summary>
    public int DefaultPageSize { get; init; } = 50;

    /// <summary>The largest page a list may ask for.</summary>
    public int MaxPageSize { get; init; } = 1000;

    /// <summary>The most events one read of the native API returns; more are paged with <c>nextAfterSeq</c>.</summary>
    public int MaxEventsPerRead { get; init; } = 10_000;

    /// <summary>Describes the first limit that is not positive, or null when all are sound.</summary>
    public string? Validate()
    {
        if (MaxRequestBodyBytes <= 0) return "Sessiond:Limits:MaxRequestBodyBytes must be positive (default 8388608).";
        if (MaxEventBytes <= 0) return "Sessiond:Limits:MaxEventBytes must be positive (default 1048576).";
        if (MaxJsonDepth is <= 0 or > 1000) return "Sessiond:Limits:MaxJsonDepth must be 1-1000 (default 64).";
        if (MaxEventsPerAppend <= 0) return "Sessiond:Limits:MaxEventsPerAppend must be positive (default 1000).";
        if (MaxTitleLength <= 0) return "Sessiond:Limits:MaxTitleLength must be positive (default 1024).";
        if (MaxIdempotencyKeyLength <= 0) return "Sessiond:Limits:MaxIdempotencyKeyLength must be positive (default 256).";
        if (DefaultPageSize <= 0 || DefaultPageSize > MaxPageSize) return "Sessiond:Limits:DefaultPageSize must be 1..MaxPageSize (default 50).";
        if (MaxEventsPerRead <= 0) return "Sessiond:Limits:MaxEventsPerRead must be positive (default 10000).";
        return null;
    }
}
