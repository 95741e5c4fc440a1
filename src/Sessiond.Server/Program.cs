using Sessiond.Server.Hosting;

var app = SessiondHost.Build(args);
await app.RunAsync();
