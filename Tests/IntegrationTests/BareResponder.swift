import Foundation
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `pixelhook fastcgi ARGUMENTS` on its own, no web server in front: for what any local user
/// who can connect to its socket could send. Its own settings are a spool, a handlers
/// directory and the example's projectId in a temporary directory; a second handlers directory
/// (`evilHandlers`) holds a handler that leaves `evilMarker` if it ever runs. `DIR` and
/// `SOCKET` in the arguments stand for the directory and a socket path in it. Stopped by PID
/// and its directory removed when released.
final class BareResponder {
    let directory: String
    private let temporary: TemporaryDirectory
    private let process: ChildProcess
    private(set) var exitCode: Int32?

    var spool: String { directory + "/spool" }
    var evilSpool: String { directory + "/evil-spool" }
    var evilHandlers: String { directory + "/evil-handlers" }
    var evilMarker: String { directory + "/evil-ran" }
    var log: String { (try? String(contentsOfFile: directory + "/responder.out", encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }

    /// - Parameters:
    ///   - waitForExit: the arguments are expected to be refused: wait up to 5 s for the exit.
    ///   - ready: polled (with the directory) until true, for up to 10 s.
    init(_ arguments: [String], environment: [String: String] = [:], waitForExit: Bool = false,
         ready: (String) -> Bool = { _ in true }) throws {
        temporary = try TemporaryDirectory(prefix: "pixelhook-trust")
        let directory = temporary.path
        self.directory = directory
        let handlers = directory + "/handlers"
        do {
            for sub in [handlers, directory + "/evil-handlers"] {
                try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            }
            let evil = directory + "/evil-handlers/default"
            try "#!/bin/sh\ntouch \(directory)/evil-ran\n".write(toFile: evil, atomically: true, encoding: .utf8)
            chmod(evil, 0o755)
            let own = [
                "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
                "PIXELHOOK_SPOOL": directory + "/spool", "PIXELHOOK_HANDLERS": handlers,
                "PIXELHOOK_PROJECT_IDS": WebServerFixture.projectID,
            ]
            let expanded = arguments.map {
                $0.replacingOccurrences(of: "SOCKET", with: directory + "/pixelhook.sock").replacingOccurrences(of: "DIR", with: directory)
            }
            process = try ChildProcess.server(try PixelhookRun.binary(), ["fastcgi"] + expanded, environment: own.merging(environment) { $1 },
                                        log: directory + "/responder.out")
        } catch {
            temporary.remove()
            throw error
        }
        if waitForExit {
            exitCode = process.waitForExit(timeout: 5)
            return
        }
        let deadline = Date().addingTimeInterval(10)
        while !ready(directory) {
            guard process.isRunning else { throw FixtureError("the responder exited (\(process.status)): \(log)") }
            guard Date() < deadline else { throw FixtureError("the responder was not ready within 10 s: \(log)") }
            usleep(20_000)
        }
    }

    /// Until the handler runners of `spool` are done (its `pending/` is empty), up to 10 s,
    /// so none writes into the directory while it is removed.
    func waitForRunners(spool: String) {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !((try? FileManager.default.contentsOfDirectory(atPath: spool + "/pending")) ?? []).isEmpty {
            usleep(20_000)
        }
    }

    deinit {
        if process.isRunning {
            kill(process.pid, SIGTERM)
            process.reap(timeout: 5)
            if process.isRunning { kill(process.pid, SIGKILL); process.reap() }
        }
        temporary.remove()
    }
}
