import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One real web server serving the built `pixelhook` as the package's example config says, with
/// its own spool, handlers directory and settings in a temporary directory.
///
/// ```swift
/// let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_TOKEN": "s3cret"])
/// try server.writeRecorder(named: "default")
/// let reply = try server.post(Payloads.seed("build.approved"), query: "token=s3cret")
/// let results = try server.waitForHandlers(count: 1)
/// ```
///
/// The config is `lighttpd.conf.example`, `nginx.conf.example` or `apache.conf.example` at the
/// package root, changed only by the substitutions listed in `substitutions` (the same list
/// heads each file) and by setting or commenting out its `PIXELHOOK_*` lines. A string that is
/// no longer in the example fails the test, so the examples cannot drift from what is tested.
///
/// Settings are per test: each fixture renders its own config and starts its own server (one
/// lighttpd, whose FastCGI section makes it start one pixelhook responder itself; or one nginx
/// plus one fcgiwrap; or one nginx plus one pixelhook responder; or one Apache, whose CGI runs
/// as www-data) on a free 127.0.0.1 port.
/// Settings are written into the section under test only. Every PID it starts is recorded (with
/// lighttpd's responder child and fcgiwrap's workers); `deinit` waits for the handler queue to
/// go idle, stops exactly those PIDs (TERM, then KILL) and removes the directory. Nothing is
/// ever signalled by name.
///
/// One job a file, in `WebServer/`: `Gateway` (which server, which section), `+Config`
/// (rendering the example), `+Servers` (starting and stopping), `+Waiting` (until a server is
/// ready), `+Requests` and `HTTPReply` (curl), `+Spool` (handlers and what the spool holds),
/// `+Pixelhook` (pixelhook's own processes and commands), `+Checks` (nothing crashed, nothing
/// written outside the spool), `ProcTable` (/proc).
final class WebServerFixture {
    /// The projectId of the sender's documented examples, and the example configs' value.
    static let projectID = "664f1a2b3c4d5e6f7a8b9c0d"

    let gateway: Gateway
    /// The temporary directory holding everything below; handler scripts may write here.
    let directory: String
    private let temporary: TemporaryDirectory
    let spool: String
    let handlers: String
    /// The pixelhook binary the server runs (`PixelhookRun.link`: private to the fixture).
    let binary: String
    /// Set once its server listens (`start`).
    var port = 0
    let settings: [String: String?]
    let extraLocations: [ExtraLocation]
    let configEdit: (String) throws -> String
    /// `.nginxFastCGI` only: how the responder is started, and its `--workers` (nil: default).
    let responderLaunch: ResponderLaunch
    let responderWorkers: Int?
    /// Apache only: lines appended to the rendered config (more modules, a `UserDir`).
    let appendedConfig: String

    var processes: [ChildProcess] = []
    /// Every PID this fixture started, including fcgiwrap's preforked workers and the FastCGI
    /// responder lighttpd starts.
    var startedPIDs: [pid_t] = []
    let counter = Counter()
    /// The pixelhook FastCGI responder (`.nginxFastCGI`: started here; `.lighttpdFastCGI`:
    /// lighttpd's child), recorded once the server answers.
    var responderPID: pid_t?
    var responderProcess: ChildProcess?

    var url: String { url(path: gateway.path) }
    func url(path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
    var logDirectory: String { directory + "/log" }
    /// Where lighttpd creates its FastCGI socket (`/run/lighttpd` in the example).
    var runDirectory: String { directory + "/run" }

    /// - Parameters:
    ///   - settings: `PIXELHOOK_*` values to set in the rendered config; `nil` comments the
    ///     setting out. Settings not named keep the example's line as it is.
    ///   - spool: where `PIXELHOOK_SPOOL` points, relative to the fixture's directory (pixelhook
    ///     creates it).
    ///   - prepare: runs once the directory exists, before the server starts.
    ///   - responder, workers: `.nginxFastCGI` only: how the responder is started, and its
    ///     `--workers` (only with `.listen`).
    ///   - extraLocations: nginx only: more copies of the gateway's location.
    ///   - configEdit: after `prepare`, so a trailing closure stays `prepare`; a last change to the rendered config (tuning a test needs: connection
    ///     limits, an upstream pool); it should throw if the text it changes is not there.
    init(_ gateway: Gateway, settings: [String: String?] = [:], spool: String = "spool",
         responder: ResponderLaunch = .listen, workers: Int? = nil, extraLocations: [ExtraLocation] = [],
         appendedConfig: String = "", prepare: (String) throws -> Void = { _ in },
         configEdit: @escaping (String) throws -> String = { $0 }) throws {
        self.gateway = gateway
        self.settings = settings
        self.extraLocations = extraLocations
        self.configEdit = configEdit
        responderLaunch = responder
        responderWorkers = workers
        self.appendedConfig = appendedConfig
        temporary = try TemporaryDirectory(prefix: "pixelhook-it")
        directory = temporary.path
        self.spool = directory + "/" + spool
        handlers = directory + "/handlers"
        binary = try PixelhookRun.link(into: directory)
        do {
            for sub in [handlers, logDirectory, runDirectory, directory + "/nginx", directory + "/requests"] {
                try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            }
            if gateway.server == .apache {
                // Its CGI (www-data) creates the spool here and its handlers write here.
                guard let webUser = getpwnam("www-data") else { throw FixtureError("there is no www-data user") }
                chown(directory, webUser.pointee.pw_uid, webUser.pointee.pw_gid)
                chmod(directory, 0o755)
            }
            try prepare(directory)
            try start()
        } catch {
            stopServers()
            temporary.remove()
            throw error
        }
    }

    /// Every spool this fixture's config names: its own and its extra locations'.
    var spools: [String] { [spool] + extraLocations.map { directory + "/" + $0.spool } }

    deinit {
        // Let the handlers of this test finish first, so that none outlives it or writes into
        // the directory while it is removed. Bounded: a lost runner never writes its result.
        for spool in spools {
            _ = try? waitForHandlers(count: 0, timeout: 5, spool: spool)
            waitUntilNoHandlerRuns(timeout: 15, spool: spool)
        }
        stopServers()
        temporary.remove()
    }

    /// The fcgiwrap socket (`.nginxFcgiwrap`).
    var fcgiwrapSocket: String { directory + "/fcgiwrap.sock" }

    /// The FastCGI responder's socket: the one the fixture has it listen on (nginx), or the one
    /// lighttpd creates (the example's `socket` with lighttpd's `-0` for the first process).
    var responderSocket: String {
        switch gateway.server {
        case .nginx: directory + "/pixelhook.sock"
        case .lighttpd: runDirectory + "/pixelhook-fastcgi.sock-0"
        case .apache: directory + "/no-responder.sock"
        }
    }
}
