namespace Sessiond.Server.WebConsole;

/// <summary>One static file of the web console, read once from the server assembly.</summary>
/// <param name="ContentType">The media type it is served with.</param>
/// <param name="Content">The file's bytes.</param>
/// <param name="ETag">A strong validator derived from the bytes, so a browser revalidates cheaply.</param>
public sealed record ConsoleAsset(string ContentType, ReadOnlyMemory<byte> Content, string ETag);
