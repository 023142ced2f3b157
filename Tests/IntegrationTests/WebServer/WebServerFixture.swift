import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real web servers every integration scenario runs through. Tests take it as a parameter
/// (`@Test(arguments: Gateway.allCases)`); everything that differs between them (which example
/// config, how it is rendered, which processes to start) lives in `WebServerFixture`.
enum Gateway: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `lighttpd.conf.example`, CGI section: lighttpd's mod_cgi runs pixelhook once per request.
    case lighttpdCGI
    /// `nginx.conf.example`, CGI section: nginx → fcgiwrap → pixelhook once per request.
    case nginxFcgiwrap
    /// `nginx.conf.example`, FastCGI section: nginx → one `pixelhook fastcgi --listen SOCKET`
    /// (or spawn-fcgi) the fixture starts; settings arrive as per-request `fastcgi_param`s.
    case nginxFastCGI
    /// `lighttpd.conf.example`, FastCGI section: mod_fastcgi starts pixelhook itself
    /// (`bin-path`, the socket on fd 0); settings arrive in its `bin-environment`.
    case lighttpdFastCGI
    /// `apache.conf.example`: Apache's mod_cgi runs pixelhook once per request, as www-data
    /// (Apache refuses to run CGI as root), so the fixture's directory is www-data's.
    case apacheCGI

    /// The gateways every scenario runs through. Apache is not among them: its CGI runs as
    /// www-data, which scenarios that break the spool as root (tmpfs, crash injection) do not
    /// allow for; `ApacheTests` and the over-limit scenarios use `withApache`.
    static let allCases: [Gateway] = [.lighttpdCGI, .nginxFcgiwrap, .nginxFastCGI, .lighttpdFastCGI]
    static let withApache: [Gateway] = allCases + [.apacheCGI]

    var testDescription: String { rawValue }

    enum Server { case lighttpd, nginx, apache }

    var server: Server {
        switch self {
        case .lighttpdCGI, .lighttpdFastCGI: .lighttpd
        case .nginxFcgiwrap, .nginxFastCGI: .nginx
        case .apacheCGI: .apache
        }
    }

    /// The example's section this gateway uses: its banner comment starts `# CGI:` or
    /// `# FastCGI:` and it ends at `# end of CGI section` or `# end of FastCGI section`.
    var section: String {
        switch self {
        case .lighttpdCGI, .nginxFcgiwrap, .apacheCGI: "CGI"
        case .nginxFastCGI, .lighttpdFastCGI: "FastCGI"
        }
    }

    /// The URL path that section serves.
    var path: String { section == "CGI" ? "/hooks/streampixel" : "/hooks/streampixel-fastcgi" }
}

/// How the fixture starts the FastCGI responder for `.nginxFastCGI` (the nginx example's two
/// documented ways that need no systemd).
enum ResponderLaunch: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `pixelhook fastcgi --listen SOCKET --socket-mode 0660`: pixelhook creates the socket.
    case listen
    /// `spawn-fcgi -n -s SOCKET -M 0660 -- pixelhook`: the socket arrives as fd 0 (no arguments).
    case spawnFcgi

    var testDescription: String { rawValue }
}

/// One more copy of the gateway's location (nginx only), with its own path and settings: several
/// locations served by one FastCGI responder.
struct ExtraLocation {
    let path: String
    /// `PIXELHOOK_*` values for this copy, as for the fixture's own `settings`.
    let settings: [String: String?]
    /// Its `PIXELHOOK_SPOOL`, relative to the fixture's directory.
    let spool: String
}

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
    private(set) var port = 0
    private let settings: [String: String?]
    private let extraLocations: [ExtraLocation]
    private let configEdit: (String) throws -> String
    /// `.nginxFastCGI` only: how the responder is started, and its `--workers` (nil: default).
    let responderLaunch: ResponderLaunch
    private let responderWorkers: Int?
    /// Apache only: lines appended to the rendered config (more modules, a `UserDir`).
    private let appendedConfig: String

    private var processes: [ChildProcess] = []
    /// Every PID this fixture started, including fcgiwrap's preforked workers and the FastCGI
    /// responder lighttpd starts.
    private var startedPIDs: [pid_t] = []
    private let counter = Counter()
    /// The pixelhook FastCGI responder (`.nginxFastCGI`: started here; `.lighttpdFastCGI`:
    /// lighttpd's child), recorded once the server answers.
    private(set) var responderPID: pid_t?
    private var responderProcess: ChildProcess?

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

    // MARK: - Rendering the example config

    /// The example file this gateway's server is started from.
    var exampleFile: String {
        switch gateway.server {
        case .lighttpd: BuiltBinary.packageRoot + "/lighttpd.conf.example"
        case .nginx: BuiltBinary.packageRoot + "/nginx.conf.example"
        case .apache: BuiltBinary.packageRoot + "/apache.conf.example"
        }
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

    /// The textual substitutions, in order, exactly as the example's header lists them. The port
    /// comes first so that no temporary path inserted later can be mistaken for it.
    func substitutions(port: Int) -> [(String, String)] {
        switch gateway.server {
        case .lighttpd:
            [
                ("8080", String(port)),
                ("\"0.0.0.0\"", "\"127.0.0.1\""),
                ("/usr/local/bin/pixelhook", binary),
                ("/var/spool/pixelhook", spool),
                ("/etc/pixelhook/handlers", handlers),
                ("/var/log/lighttpd", logDirectory),
                ("/run/lighttpd", runDirectory),
            ]
        case .nginx:
            [
                ("listen 8080;", "listen 127.0.0.1:\(port);"),
                ("user www-data;", "user root;"),
                ("/run/nginx.pid", directory + "/nginx.pid"),
                ("/var/log/nginx", logDirectory),
                ("/var/lib/nginx", directory + "/nginx"),
                ("/run/fcgiwrap.socket", fcgiwrapSocket),
                ("/run/pixelhook/pixelhook.sock", responderSocket),
                ("/usr/local/bin/pixelhook", binary),
                ("/var/spool/pixelhook", spool),
                ("/etc/pixelhook/handlers", handlers),
            ]
        case .apache:
            [
                ("Listen 8080", "Listen 127.0.0.1:\(port)"),
                ("/run/apache2", runDirectory),
                ("/var/log/apache2", logDirectory),
                ("/usr/local/bin/pixelhook", binary),
                ("/var/spool/pixelhook", spool),
                ("/etc/pixelhook/handlers", handlers),
            ]
        }
    }

    /// Lines whose text (after indentation) starts with these are commented out.
    var removedLines: [String] {
        switch gateway.server {
        case .lighttpd: ["server.username", "server.groupname"]
        case .nginx, .apache: []
        }
    }

    /// The example's line for a setting, with or without a leading `#`, and the line to use.
    private func settingLine(_ key: String, _ value: String?) -> (matches: (String) -> Bool, line: String) {
        if let value {
            precondition(!value.contains("\"") && !value.contains("\\"), "test setting values are kept simple")
        }
        switch gateway.server {
        case .lighttpd:
            return ({ $0.hasPrefix("\"\(key)\"") },
                    value.map { "\"\(key)\" => \"\($0)\"," } ?? "# \"\(key)\" unset by the test")
        case .nginx:
            return ({ $0.hasPrefix("fastcgi_param \(key) ") || $0.hasPrefix("fastcgi_param \(key)\t") },
                    value.map { "fastcgi_param \(key) \"\($0)\";" } ?? "# fastcgi_param \(key) unset by the test")
        case .apache:
            return ({ $0.hasPrefix("SetEnv \(key) ") },
                    value.map { "SetEnv \(key) \"\($0)\"" } ?? "# SetEnv \(key) unset by the test")
        }
    }

    /// The example config with this fixture's port, paths and settings.
    func renderConfig(port: Int) throws -> String {
        var text = try String(contentsOfFile: exampleFile, encoding: .utf8)
        for (from, to) in substitutions(port: port) {
            guard text.contains(from) else {
                throw FixtureError("\(exampleFile) no longer contains \(from): update its header comment and WebServerFixture.substitutions")
            }
            text = text.replacingOccurrences(of: from, with: to)
        }
        var lines = text.components(separatedBy: "\n")
        for prefix in removedLines {
            let hits = lines.indices.filter { lines[$0].drop { $0 == " " }.hasPrefix(prefix) }
            guard !hits.isEmpty else { throw FixtureError("\(exampleFile) has no \(prefix) line any more: update WebServerFixture.removedLines") }
            for index in hits { lines[index] = "# " + lines[index] }
        }
        let section = try sectionRange(lines)
        var copies: [String] = []
        var insertion = section.upperBound
        if !extraLocations.isEmpty {
            guard gateway.server == .nginx else { throw FixtureError("extra locations are for nginx only") }
            let block = try locationBlock(lines, in: section)
            insertion = block.upperBound + 1
            for extra in extraLocations {
                var copy = Array(lines[block])
                copy[0] = copy[0].replacingOccurrences(of: "location = \(gateway.path) {", with: "location = \(extra.path) {")
                var settings = extra.settings
                settings["PIXELHOOK_SPOOL"] = directory + "/" + extra.spool
                try apply(settings, to: &copy, in: copy.indices)
                copies += copy
            }
        }
        try apply(settings, to: &lines, in: section)
        lines.insert(contentsOf: copies, at: insertion)
        return lines.joined(separator: "\n") + (appendedConfig.isEmpty ? "" : "\n" + appendedConfig + "\n")
    }

    /// A line's indentation and its text without indentation and without a leading `#`.
    private func body(_ line: String) -> (indent: Substring, text: String) {
        let indent = line.prefix { $0 == " " || $0 == "\t" }
        var rest = line.dropFirst(indent.count)
        if rest.hasPrefix("#") { rest = rest.dropFirst().drop { $0 == " " } }
        return (indent, String(rest))
    }

    /// The lines of this gateway's section: from its banner (a comment `# CGI: ...` or
    /// `# FastCGI: ...` right under a `# ====...` line) to its `# end of ... section` line, which
    /// must each appear once.
    private func sectionRange(_ lines: [String]) throws -> Range<Int> {
        let name = gateway.section
        let starts = lines.indices.dropFirst().filter {
            lines[$0].drop { $0 == " " }.hasPrefix("#") && body(lines[$0]).text.hasPrefix(name + ":")
                && body(lines[$0 - 1]).text.hasPrefix("====")
        }
        let ends = lines.indices.filter { body(lines[$0]).text == "end of \(name) section" }
        guard starts.count == 1, ends.count == 1, starts[0] < ends[0] else {
            throw FixtureError("\(exampleFile) must have one `# \(name): ...` banner and one `# end of \(name) section` after it (found \(starts.count) and \(ends.count))")
        }
        return starts[0]..<ends[0]
    }

    /// nginx: the `location = PATH { ... }` lines of the section, closing brace included.
    private func locationBlock(_ lines: [String], in section: Range<Int>) throws -> ClosedRange<Int> {
        guard let open = section.first(where: { body(lines[$0]).text == "location = \(gateway.path) {" }),
              let close = section.first(where: { $0 > open && lines[$0] == body(lines[open]).indent + "}" }) else {
            throw FixtureError("\(exampleFile): no `location = \(gateway.path) { ... }` in its \(gateway.section) section")
        }
        return open...close
    }

    /// Sets or comments out each setting's one line within `range`.
    private func apply(_ settings: [String: String?], to lines: inout [String], in range: Range<Int>) throws {
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            let (matches, replacement) = settingLine(key, value)
            let hits = range.filter { matches(body(lines[$0]).text) }
            guard hits.count == 1 else {
                throw FixtureError("\(exampleFile) must have exactly one line for \(key) (set or commented out) in its \(gateway.section) section, found \(hits.count)")
            }
            lines[hits[0]] = body(lines[hits[0]]).indent + replacement
        }
    }

    // MARK: - Starting and stopping

    private func start() throws {
        // Looked up first: a missing server is a clear failure, not a reason to retry.
        var tools: [String: String] = [:]
        let names: [String] = switch gateway {
        case .lighttpdCGI, .lighttpdFastCGI: ["lighttpd"]
        case .nginxFcgiwrap: ["nginx", "fcgiwrap"]
        case .nginxFastCGI: responderLaunch == .spawnFcgi ? ["nginx", "spawn-fcgi"] : ["nginx"]
        case .apacheCGI: ["apache2"]
        }
        for name in names { tools[name] = try WebServerFixture.tool(name) }
        var problems: [String] = []
        for attempt in 1...3 {
            let port = try unusedLocalPort()
            let config = directory + "/\(gateway.rawValue).conf"
            try configEdit(renderConfig(port: port)).write(toFile: config, atomically: true, encoding: .utf8)
            do {
                switch gateway.server {
                case .lighttpd:
                    let lighttpd = try launch(tools["lighttpd"]!, ["-D", "-f", config], log: "lighttpd")
                    try waitUntilListening(port: port, server: lighttpd)
                case .nginx:
                    if gateway == .nginxFcgiwrap {
                        let fcgiwrap = try launch(tools["fcgiwrap"]!, ["-c", "4", "-s", "unix:" + fcgiwrapSocket], log: "fcgiwrap")
                        try waitForSocket(fcgiwrapSocket, server: fcgiwrap)
                    } else {
                        try startResponder(tools)
                    }
                    let nginx = try launch(tools["nginx"]!, [
                        "-g", "daemon off;", "-p", directory + "/nginx/", "-c", config,
                        "-e", logDirectory + "/nginx-startup.log",
                    ], log: "nginx")
                    try waitUntilListening(port: port, server: nginx)
                case .apache:
                    // Debian's apache2 needs none of apache2ctl's envvars: the config names
                    // every path itself.
                    let apache = try launch(tools["apache2"]!, ["-f", config, "-DFOREGROUND"], log: "apache2")
                    try waitUntilListening(port: port, server: apache)
                }
                self.port = port
                try waitUntilAnswering()
                if gateway.server == .lighttpd { try recordLighttpdResponder() }
                return
            } catch let error as FixtureError {
                // Most likely the port was taken between probing and binding: try another.
                problems.append("attempt \(attempt) on port \(port): \(error.description)")
                stopServers()
                try? FileManager.default.removeItem(atPath: fcgiwrapSocket)
                try? FileManager.default.removeItem(atPath: responderSocket)
            }
        }
        throw FixtureError("\(gateway) did not start:\n" + problems.joined(separator: "\n"))
    }

    /// `.nginxFastCGI`: the responder, with nothing of the settings in its environment (they
    /// come from the rendered `fastcgi_param PIXELHOOK_*` lines, per request) but the paths
    /// those lines may name: `--allow-*` options, or (spawn-fcgi starts it without arguments)
    /// its own `PIXELHOOK_SPOOL` and `PIXELHOOK_HANDLERS`, which are always allowed.
    private func startResponder(_ tools: [String: String]) throws {
        let responder: ChildProcess
        switch responderLaunch {
        case .listen:
            var arguments = ["fastcgi", "--listen", responderSocket, "--socket-mode", "0660"]
            if let responderWorkers { arguments += ["--workers", String(responderWorkers)] }
            arguments += spools.flatMap { ["--allow-spool", $0] } + ["--allow-handlers", handlers]
            responder = try launch(binary, arguments, log: "pixelhook")
        case .spawnFcgi:
            precondition(responderWorkers == nil, "spawn-fcgi starts pixelhook without arguments")
            // -n: no fork, spawn-fcgi execs pixelhook in place, so this PID is the responder's.
            responder = try launch(tools["spawn-fcgi"]!, ["-n", "-s", responderSocket, "-M", "0660", "--", binary], log: "pixelhook",
                                   environment: ["PIXELHOOK_SPOOL": spool, "PIXELHOOK_HANDLERS": handlers])
        }
        responderProcess = responder
        responderPID = responder.pid
        let deadline = Date().addingTimeInterval(10)
        while access(responderSocket, F_OK) != 0 {
            guard responder.isRunning else { throw FixtureError("the responder exited (\(responder.status))" + allLogs()) }
            guard Date() < deadline else { throw FixtureError("the responder did not create \(responderSocket) within 10 s" + allLogs()) }
            usleep(10_000)
        }
    }

    /// lighttpd starts the responder of its FastCGI section itself (for `.lighttpdCGI` too: the
    /// example has both sections): its child whose fd 0 is a socket, recorded to be stopped.
    private func recordLighttpdResponder() throws {
        guard let lighttpd = processes.first(where: { $0.name == "lighttpd" }) else { return }
        let deadline = Date().addingTimeInterval(10)
        while true {
            if let child = WebServerFixture.socketChildren(of: lighttpd.pid).first {
                responderPID = child
                if !startedPIDs.contains(child) { startedPIDs.append(child) }
                return
            }
            guard Date() < deadline else { throw FixtureError("lighttpd started no FastCGI responder within 10 s" + allLogs()) }
            usleep(10_000)
        }
    }

    /// Signals the responder the fixture started (`.nginxFastCGI`).
    func signalResponder(_ signal: Int32) throws {
        guard let responderProcess else { throw FixtureError("no responder started by the fixture (\(gateway))") }
        kill(responderProcess.pid, signal)
    }

    /// Waits up to `timeout` seconds for the responder the fixture started to exit: its exit
    /// code, or nil if it is still running or was killed by a signal.
    func waitForResponderExit(timeout: Double) throws -> Int32? {
        guard let responderProcess else { throw FixtureError("no responder started by the fixture (\(gateway))") }
        let code = responderProcess.waitForExit(timeout: timeout)
        // Reaped: its PID may be reused, so it is not signalled again at teardown.
        if !responderProcess.isRunning { startedPIDs.removeAll { $0 == responderProcess.pid } }
        return code
    }

    /// A server binary from PATH or the sbin directories; missing is a failure, never a skip.
    static func tool(_ name: String) throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in path + ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin"] {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw FixtureError("\(name) is not installed (looked in PATH and the sbin directories): apt-get install \(name); CI installs it")
    }

    /// Starts `executable` with a clean environment (nothing of the test runner's, such as a
    /// stray PIXELHOOK_TOKEN, reaches pixelhook; only `environment`), output to `log/NAME.out`, and records its PID.
    private func launch(
        _ executable: String, _ arguments: [String], log name: String, environment: [String: String] = [:]
    ) throws -> ChildProcess {
        let process = try ChildProcess.server(
            executable, arguments,
            environment: environment.merging(
                ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"]) { $1 },
            log: logDirectory + "/\(name).out")
        processes.append(process)
        startedPIDs.append(process.pid)
        return process
    }

    private func serverLog(_ name: String) -> String {
        let text = (try? String(contentsOfFile: logDirectory + "/\(name)", encoding: .utf8)) ?? ""
        return text.isEmpty ? "" : "\n--- \(name):\n" + text.suffix(2000)
    }

    private func allLogs() -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: logDirectory)) ?? []
        return names.sorted().map(serverLog).joined()
    }

    /// Until fcgiwrap's socket exists and its preforked workers are known (recorded, so they
    /// are stopped too: fcgiwrap's parent leaves them behind when it is terminated).
    private func waitForSocket(_ path: String, server: ChildProcess) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard server.isRunning else { throw FixtureError("fcgiwrap exited (\(server.status))" + allLogs()) }
            if access(path, F_OK) == 0 {
                let workers = WebServerFixture.children(of: server.pid)
                if workers.count >= 4 {
                    startedPIDs += workers
                    return
                }
            }
            usleep(10_000)
        }
        throw FixtureError("fcgiwrap did not create \(path) within 10 s" + allLogs())
    }

    /// Until `server` itself (not some other test's server) holds a listening socket on the
    /// port, read from /proc/net/tcp and /proc/PID/fd. A server that cannot bind exits
    /// (lighttpd) or retries for a while (nginx); both count as failure.
    private func waitUntilListening(port: Int, server: ChildProcess) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            guard server.isRunning else {
                throw FixtureError("\(server.name) exited (\(server.status))" + allLogs())
            }
            let listening = WebServerFixture.listeningInodes(port: port)
            if !listening.isDisjoint(with: WebServerFixture.socketInodes(of: server.pid)) { return }
            if (try? String(contentsOfFile: logDirectory + "/nginx-startup.log", encoding: .utf8))?.contains("Address already in use") == true
                || (try? String(contentsOfFile: logDirectory + "/error.log", encoding: .utf8))?.contains("Address already in use") == true {
                throw FixtureError("port \(port) is taken")
            }
            usleep(10_000)
        }
        throw FixtureError("\(gateway) did not listen on 127.0.0.1:\(port) within 10 s" + allLogs())
    }

    /// Until a health check gets any HTTP answer (503 is an answer: some tests break the spool).
    private func waitUntilAnswering() throws {
        let deadline = Date().addingTimeInterval(10)
        var last = ""
        while Date() < deadline {
            if let reply = try? request("GET"), reply.status != 0 {
                if reply.status == 502 || reply.status == 504 {
                    last = "answered \(reply.status)"
                } else {
                    return
                }
            }
            usleep(20_000)
        }
        throw FixtureError("\(url) did not answer within 10 s (\(last))" + allLogs())
    }

    /// TERM every recorded PID, wait up to 5 s, KILL what is left. Zombies count as gone.
    private func stopServers() {
        // fcgiwrap may have replaced a worker since start: its current children are ours too.
        for process in processes where process.name == "fcgiwrap" && process.isRunning {
            for child in WebServerFixture.children(of: process.pid) where !startedPIDs.contains(child) {
                startedPIDs.append(child)
            }
        }
        // Apache's children are stopped by their parent; recorded so that none outlives it.
        for process in processes where process.name == "apache2" && process.isRunning {
            for child in WebServerFixture.children(of: process.pid) where !startedPIDs.contains(child) {
                startedPIDs.append(child)
            }
        }
        // lighttpd restarts a responder that died: its current one is ours too.
        for process in processes where process.name == "lighttpd" && process.isRunning {
            for child in WebServerFixture.socketChildren(of: process.pid) where !startedPIDs.contains(child) {
                startedPIDs.append(child)
            }
        }
        // The responder that serves is the supervising responder's child: ours too.
        for pid in startedPIDs {
            for child in WebServerFixture.supervisedChildren(of: pid) where !startedPIDs.contains(child) { startedPIDs.append(child) }
        }
        for pid in startedPIDs { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, startedPIDs.contains(where: WebServerFixture.isAlive) { usleep(20_000) }
        for pid in startedPIDs where WebServerFixture.isAlive(pid) { kill(pid, SIGKILL) }
        for process in processes { process.reap() }
        processes = []
        startedPIDs = []
        responderProcess = nil
    }

    // MARK: - Requests (curl)

    /// Sends one request and waits for the answer.
    @discardableResult
    func request(_ method: String, body: Data? = nil, contentType: String? = "application/json",
                 query: String = "", headers: [String] = [], chunked: Bool = false, path: String? = nil) throws -> HTTPReply {
        try startRequest(method, body: body, contentType: contentType, query: query, headers: headers, chunked: chunked, path: path).wait()
    }

    /// - Parameter path: another URL path (an extra location); default: the gateway's.
    @discardableResult
    func post(_ body: Data, query: String = "", headers: [String] = [], path: String? = nil) throws -> HTTPReply {
        try request("POST", body: body, query: query, headers: headers, path: path)
    }

    /// Starts one curl and returns at once: many may be in flight together.
    func startRequest(_ method: String, body: Data? = nil, contentType: String? = "application/json",
                      query: String = "", headers: [String] = [], chunked: Bool = false, path: String? = nil) throws -> PendingRequest {
        let files = directory + "/requests/\(counter.next())"
        var arguments = ["-s", "-S", "--noproxy", "*", "-m", "30", "-D", files + ".head", "-w", "%{http_code}", "-H", "Expect:"]
        // curl --head reads no body (and would write the headers to -o).
        if method == "HEAD" {
            arguments += ["--head", "-o", "/dev/null"]
        } else {
            arguments += ["-X", method, "-o", files + ".body"]
        }
        if let body {
            try body.write(to: URL(fileURLWithPath: files + ".request"))
            arguments += ["--data-binary", "@" + files + ".request"]
            if chunked { arguments += ["-H", "Transfer-Encoding: chunked"] }
        }
        if let contentType { arguments += ["-H", "Content-Type: " + contentType] } else if body != nil { arguments += ["-H", "Content-Type:"] }
        for header in headers { arguments += ["-H", header] }
        let target = url(path: path ?? gateway.path)
        arguments.append(query.isEmpty ? target : target + "?" + query)
        return try PendingRequest(arguments: arguments, files: files)
    }

    // MARK: - Handlers and the spool

    /// Writes an executable `/bin/sh` script into the handlers directory.
    func writeHandler(named name: String, _ script: String) throws {
        let path = handlers + "/" + name
        try ("#!/bin/sh\n" + script + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    /// A handler that appends `EVENT DELIVERY` to `runs.log`, one line per run.
    func writeRecorder(named name: String) throws {
        try writeHandler(named: name, #"echo "$PIXELHOOK_EVENT $PIXELHOOK_DELIVERY" >> "# + directory + "/runs.log")
    }

    /// The lines of `runs.log`: one per recorder run.
    var runs: [String] { lines(of: directory + "/runs.log") }

    func lines(of path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The spool's request log, one JSON object a line.
    var requestLog: [JSONValue] { requestLog(in: spool) }

    func requestLog(in spool: String) -> [JSONValue] {
        lines(of: spool + "/requests.log").compactMap { JSONValue.parse(Data($0.utf8)) }
    }

    /// `PROJECT/BUILD/EVENT` of every stored delivery (`deliveries/PROJECT/BUILD/EVENT.json`).
    var storedDeliveries: [String] { storedDeliveries(in: spool) }

    func storedDeliveries(in spool: String) -> [String] { deliveryFiles(suffix: ".json", spool: spool) }

    private func deliveryFiles(suffix: String, spool: String) -> [String] {
        let fm = FileManager.default
        let root = spool + "/deliveries"
        var found: [String] = []
        let visible = { (path: String) in ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") } }
        for project in visible(root) {
            for build in visible(root + "/" + project) {
                for file in visible(root + "/" + project + "/" + build) where file.hasSuffix(suffix) {
                    found.append("\(project)/\(build)/\(file.dropLast(suffix.count))")
                }
            }
        }
        return found.sorted()
    }

    /// Waits, polling the spool, until at least `count` handler results exist and every stored
    /// delivery has its result (the queue is idle); returns the results by `PROJECT/BUILD/EVENT`.
    @discardableResult
    func waitForHandlers(count: Int, timeout: Double = 10, spool: String? = nil) throws -> [String: JSONValue] {
        let spool = spool ?? self.spool
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let stored = storedDeliveries(in: spool)
            let finished = deliveryFiles(suffix: ".result", spool: spool)
            if finished.count >= count, Set(stored).isSubset(of: Set(finished)) {
                var results: [String: JSONValue] = [:]
                for id in finished {
                    let data = FileManager.default.contents(atPath: "\(spool)/deliveries/\(id).result") ?? Data()
                    results[id] = JSONValue.parse(data) ?? .string(String(decoding: data, as: UTF8.self))
                }
                return results
            }
            guard Date() < deadline else {
                throw FixtureError("after \(timeout) s: \(finished.count) handler results of \(count) expected; "
                    + "stored \(stored), finished \(finished)" + allLogs())
            }
            usleep(20_000)
        }
    }

    /// For teardown: until no build's queue is being drained, so that no handler started for
    /// this test outlives it. A runner holds `deliveries/PROJECT/BUILD/.lock` (flock) while it
    /// runs that build's handlers (see `Spool`); taking it for an instant tells whether one does.
    private func waitUntilNoHandlerRuns(timeout: Double, spool: String) {
        let deadline = Date().addingTimeInterval(timeout)
        let root = spool + "/deliveries"
        let list = { (path: String) in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] }
        func busy() -> Bool {
            for project in list(root) {
                for build in list(root + "/" + project) {
                    let fd = open("\(root)/\(project)/\(build)/.lock", O_RDONLY | O_CLOEXEC)
                    guard fd >= 0 else { continue }
                    defer { close(fd) }
                    if flock(fd, LOCK_EX | LOCK_NB) != 0 { return true }
                }
            }
            return false
        }
        while busy(), Date() < deadline { usleep(50_000) }
    }

    // MARK: - /proc

    /// Inodes of sockets listening on 127.0.0.1:port or 0.0.0.0:port.
    static func listeningInodes(port: Int) -> Set<String> {
        let hexPort = String(format: "%04X", port)
        var inodes: Set<String> = []
        let table = (try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)) ?? ""
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[3] == "0A",
                  fields[1] == "0100007F:\(hexPort)" || fields[1] == "00000000:\(hexPort)" else { continue }
            inodes.insert(String(fields[9]))
        }
        return inodes
    }

    static func socketInodes(of pid: pid_t) -> Set<String> {
        let directory = "/proc/\(pid)/fd"
        var inodes: Set<String> = []
        for fd in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + fd),
                  target.hasPrefix("socket:[") else { continue }
            inodes.insert(String(target.dropFirst("socket:[".count).dropLast()))
        }
        return inodes
    }

    /// `(state, parent)` of a process from /proc/PID/stat, nil if there is none.
    static func stat(_ pid: pid_t) -> (state: Character, parent: pid_t)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let state = fields[0].first, let parent = pid_t(fields[1]) else { return nil }
        return (state, parent)
    }

    /// Running (a zombie is not: this container's PID 1 may never reap orphans).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let info = stat(pid) else { return false }
        return info.state != "Z" && info.state != "X"
    }

    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { stat($0)?.parent == parent && isAlive($0) }.sorted()
    }

    /// Children of `parent` in state Z: exited, never reaped.
    static func zombies(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter {
            guard let info = stat($0) else { return false }
            return info.parent == parent && info.state == "Z"
        }.sorted()
    }

    /// Running children of `parent` started as `pixelhook fastcgi --supervised`: the responder
    /// that serves, under the supervising one (`FastCGISupervisor`).
    static func supervisedChildren(of parent: pid_t) -> [pid_t] {
        children(of: parent).filter {
            let arguments = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\($0)/cmdline"))) ?? Data()
            return arguments.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "--supervised" }
        }
    }

    /// The responder that serves: the supervising responder's child, waiting up to `timeout`
    /// seconds for one (after a crash, the new one).
    func servingResponderPID(timeout: Double = 10, other previous: pid_t? = nil) -> pid_t? {
        guard let responderPID else { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let child = WebServerFixture.supervisedChildren(of: responderPID).first(where: { $0 != previous }) { return child }
            guard Date() < deadline else { return nil }
            usleep(10_000)
        }
    }

    /// Running children of `parent` whose fd 0 is a socket: a FastCGI responder started on a
    /// listening socket (lighttpd's `bin-path`), not a CGI program (its stdin is a pipe).
    static func socketChildren(of parent: pid_t) -> [pid_t] {
        children(of: parent).filter {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/fd/0"))?.hasPrefix("socket:") == true
        }
    }
}

/// Unique request file names within one fixture.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int { lock.withLock { value += 1; return value } }
}
