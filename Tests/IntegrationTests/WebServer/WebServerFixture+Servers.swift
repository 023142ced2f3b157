import Foundation
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Starting and stopping the servers: every PID started is recorded, and only those are
/// signalled at the end (never a process by name).
extension WebServerFixture {
    func start() throws {
        // Looked up first: a missing server is a clear failure, not a reason to retry.
        var tools: [String: String] = [:]
        let names: [String] = switch gateway {
        case .lighttpdCGI, .lighttpdFastCGI: ["lighttpd"]
        case .nginxFcgiwrap: ["nginx", "fcgiwrap"]
        case .nginxFastCGI: responderLaunch == .spawnFcgi ? ["nginx", "spawn-fcgi"] : ["nginx"]
        case .apacheCGI: ["apache2"]
        }
        for name in names { tools[name] = try InstalledTool.path(name) }
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
            if let child = ProcTable.socketChildren(of: lighttpd.pid).first {
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

    /// The responder that serves: the supervising responder's child, waiting up to `timeout`
    /// seconds for one (after a crash, the new one).
    func servingResponderPID(timeout: Double = 10, other previous: pid_t? = nil) -> pid_t? {
        guard let responderPID else { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let child = ProcTable.supervisedChildren(of: responderPID).first(where: { $0 != previous }) { return child }
            guard Date() < deadline else { return nil }
            usleep(10_000)
        }
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

    func allLogs() -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: logDirectory)) ?? []
        return names.sorted().map(serverLog).joined()
    }

    /// TERM every recorded PID, wait up to 5 s, KILL what is left. Zombies count as gone.
    func stopServers() {
        // fcgiwrap may have replaced a worker since start: its current children are ours too.
        for process in processes where process.name == "fcgiwrap" && process.isRunning {
            for child in ProcTable.children(of: process.pid) where !startedPIDs.contains(child) {
                startedPIDs.append(child)
            }
        }
        // Apache's children are stopped by their parent; recorded so that none outlives it.
        for process in processes where process.name == "apache2" && process.isRunning {
            for child in ProcTable.children(of: process.pid) where !startedPIDs.contains(child) {
                startedPIDs.append(child)
            }
        }
        // lighttpd restarts a responder that died: its current one is ours too.
        for process in processes where process.name == "lighttpd" && process.isRunning {
            for child in ProcTable.socketChildren(of: process.pid) where !startedPIDs.contains(child) {
                startedPIDs.append(child)
            }
        }
        // The responder that serves is the supervising responder's child: ours too.
        for pid in startedPIDs {
            for child in ProcTable.supervisedChildren(of: pid) where !startedPIDs.contains(child) { startedPIDs.append(child) }
        }
        for pid in startedPIDs { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, startedPIDs.contains(where: ProcTable.isAlive) { usleep(20_000) }
        for pid in startedPIDs where ProcTable.isAlive(pid) { kill(pid, SIGKILL) }
        for process in processes { process.reap() }
        processes = []
        startedPIDs = []
        responderProcess = nil
    }
}
