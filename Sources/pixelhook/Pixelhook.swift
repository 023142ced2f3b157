import ArgumentParser
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
            stdin. Settings are PIXELHOOK_* environment variables (see the README); \
            PIXELHOOK_PROJECT_IDS is required.
            """,
        subcommands: [Handle.self, FastCGI.self, RunQueue.self]
    )

    mutating func run() throws {
        throw ValidationError("no command given, not started as CGI (GATEWAY_INTERFACE is not set), and fd 0 is not a listening socket")
    }
}
