using Microsoft.Extensions.AI;
using Sessiond.Runtime.Agents;

namespace Sessiond.Runtime.Models;

/// <summary>Turns a <see cref="ModelDefinition"/> into the <see cref="IChatClient"/> that serves it.</summary>
public class ModelClientFactory(TimeProvider time)
{
    /// <summary>A client for <paramref name="model"/>; the caller disposes it.</summary>
    public virtual IChatClient Create(ModelDefinition model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Provider switch
        {
            "echo" or "scripted" => new OfflineChatClient(model, time),
            "openai" => new OpenAiChatClient(model, time),
            _ => throw new ModelException(ModelException.Failed, $"Provider '{model.Provider}' is not available in this build."),
        };
    }
}
