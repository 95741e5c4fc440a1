using Microsoft.Extensions.AI;

namespace Sessiond.Runtime.Models;

/// <summary>Keys the turn loop puts in <see cref="ChatOptions.AdditionalProperties"/> for the built-in models.</summary>
public static class ModelOptions
{
    /// <summary>The index of this model call within the turn (0 for the first), an <see cref="int"/>.</summary>
    public const string StepKey = "sessiond.step";

    /// <summary>Reads <see cref="StepKey"/>; 0 when absent.</summary>
    public static int StepOf(ChatOptions? options) =>
        options?.AdditionalProperties?.TryGetValue(StepKey, out var value) == true && value is int step ? step : 0;
}
