import ArgumentParser
import PixelhookRuntime
import PixelhookCore

/// The root command: mode detection and the subcommands of SPEC "Modes" and "Commands".
struct Pixelhook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pixelhook",
        abstract: "Receive Streampixel build webhooks and run one script per event.",
        discussion: """
            Started by a web server as a CGI program (GATEWAY_INTERFACE set), pixelhook answers \
            one request and exits. Started with a listening socket on fd 0 (spawn-fcgi, \
            lighttpd bin-path, systemd), it is a FastCGI responder; `pixelhook fastcgi --listen` \
            opens its own socket. `pixelhook handle < payload.json` takes one payload from \
            stdin. Settings are PIXELHOOK_* environment variables over a config file \
            (~/.config/pixelhook/pixelhook.conf, else /etc/pixelhook/pixelhook.conf; see \
            docs/settings.md); PIXELHOOK_PROJECT_IDS is required.
            """,
        version: "pixelhook \(Version.current)",
        subcommands: [RunQueue.self],
        groupedSubcommands: [
            CommandGroup(name: "Serve", subcommands: [Handle.self, FastCGI.self]),
            CommandGroup(name: "Operate", subcommands: [
                Builds.self, Log.self, Show.self, Retry.self, ReplayCommand.self, Check.self, GC.self, MetricsCommand.self,
                ClusterCommand.self,
            ]),
            CommandGroup(name: "Test a receiver", subcommands: [Send.self, Simulate.self]),
        ]
    )

    /// No command and no mode detected: the error with the whole usage, exit 64.
    mutating func run() throws {
        let error = ValidationError("no command given, not started as CGI (GATEWAY_INTERFACE is not set), and fd 0 is not a listening socket")
        StandardOutput.write(Pixelhook.fullMessage(for: error) + "\n", to: 2)
        throw ExitCode(.usage)
    }
}
