using Sessiond.Core.Ports;

namespace Sessiond.Storage.Conformance;

/// <summary>What a provider's test project supplies so the conformance suite can run against it.</summary>
public interface IStoreFixture
{
    /// <summary>An initialised store shared by every test of a class; tests keep apart by unique ids.</summary>
    ISessionStore Store { get; }

    /// <summary>
    /// Opens an initialised store on the storage named <paramref name="storageName"/> (a file, a schema), apart from
    /// <see cref="Store"/>. Opening the same name again after <see cref="CloseStoreAsync"/> sees the same data.
    /// <paramref name="listener"/>, when given, must hear of every change the store commits.
    /// </summary>
    Task<ISessionStore> OpenStoreAsync(string storageName, CancellationToken cancellationToken, ICommitListener? listener = null);

    /// <summary>Shuts a store from <see cref="OpenStoreAsync"/> down gracefully, as a server does at exit.</summary>
    Task CloseStoreAsync(ISessionStore store);
}
