#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CPosix
import PixelhookGateways
import PixelhookRuntime

/// `pixelhook fastcgi`: the persistent FastCGI responder.
struct FastCGI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fastcgi",
        abstract: "Serve FastCGI requests (behind nginx or lighttpd) until SIGTERM.",
        discussion: """
            Without --listen, serves on the listening socket passed as fd 0 (spawn-fcgi, \
            lighttpd bin-path, systemd StandardInput=socket); pixelhook started with no \
            command on such a socket does the same. On SIGTERM it removes the socket file it \
            created, serves the connections already queued, finishes the requests in flight \
            and exits 0. Per-request PIXELHOOK_* parameters apply on a unix socket, on TCP \
            only with --trust-params; paths (spool, handlers, config) only to the responder's \
            own values or those named by --allow-*; a request naming another is answered 500 \
            and logged. TCP serves loopback only, unless --allowed-clients names the clients.
            """
    )

    @Option(help: "A unix socket path, or HOST:PORT, to listen on (default: the socket on fd 0).")
    var listen: String?

    @Option(help: "Octal mode of the unix socket file, so the web server's user can connect.")
    var socketMode = "0660"

    @Option(help: "Requests served at once (worker threads). Default: 4 per CPU core.")
    var workers: Int = FastCGI.defaultWorkers

    @OptionGroup(title: "Who may decide what")
    var trust: FastCGITrustOptions

    /// Set by the supervising parent (`FastCGISupervisor`) on the responder it starts: serve fd 0.
    @Flag(help: .hidden)
    var supervised = false

    static var defaultWorkers: Int { max(2, 4 * Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    func validate() throws {
        guard (1...512).contains(workers) else { throw ValidationError("--workers must be from 1 to 512, got \(workers)") }
        guard mode_t(socketMode, radix: 8) != nil else { throw ValidationError("--socket-mode must be octal like 0660, got \(socketMode)") }
        if let listen {
            do {
                try FastCGITrust.checkListen(listen, clients: try trust.rules.allowedClients)
            } catch let error as FastCGITrust.StartError {
                throw ValidationError(error.description)
            }
        }
    }

    func run() throws {
        if supervised {
            // Started as /proc/self/exe ("exe" in ps): named as its parent is. If the parent
            // is killed outright, stop as on SIGTERM rather than serve on unsupervised.
            _ = pixelhook_set_process_name("pixelhook")
            _ = pixelhook_signal_on_parent_death(SIGTERM)
        }
        let listener: Int32
        var socketPath: String?
        if supervised {
            listener = 0  // the parent's listener (`FastCGISupervisor`)
        } else if let listen {
            if listen.contains("/") { socketPath = listen }
            do {
                listener = try FastCGIListener.open(listen, mode: mode_t(socketMode, radix: 8)!)
            } catch {
                throw ValidationError(error.description)
            }
        } else {
            guard FastCGIListener.isListeningSocketOnStandardInput() else {
                throw ValidationError("fd 0 is not a listening socket; pass --listen PATH or HOST:PORT")
            }
            listener = 0
        }
        let trusted: FastCGITrust
        do {
            trusted = try FastCGITrust(listener: listener, rules: try trust.rules, processEnvironment: ProcessEnvironment.current())
        } catch {
            if let socketPath { unlink(socketPath) }
            throw ValidationError("\(error)")
        }
        if supervised {
            throw ExitCode(FastCGIResponder.serve(listener: listener, workers: workers, trust: trusted))
        }
        let arguments = Array(CommandLine.arguments.dropFirst())
        throw ExitCode(FastCGISupervisor.run(listener: listener, arguments: arguments, socketPath: socketPath))
    }
}
