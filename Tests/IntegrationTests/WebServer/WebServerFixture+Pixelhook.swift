import Foundation
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// What crash-injection and load tests need beyond the fixture: this fixture's pixelhook
/// processes found in /proc, a replacement FastCGI responder, and
/// pixelhook's own commands run against the fixture's spool.
extension WebServerFixture {
    /// What a live process running this fixture's binary is doing, from its command line.
    enum PixelhookRole: String, Sendable {
        /// One-shot CGI program (no arguments).
        case cgi
        /// The serving responder: `pixelhook fastcgi --supervised`, started by a supervisor.
        case responder
        /// `pixelhook fastcgi ...`, or pixelhook started on a socket by lighttpd/spawn-fcgi: the
        /// parent that keeps the socket and restarts the responder (`FastCGISupervisor`).
        case supervisor
        /// `pixelhook run-queue PROJECT/BUILD/EVENT`: the detached handler supervisor.
        case runQueue
        /// Any other subcommand (`retry`, ...).
        case command
    }

    struct PixelhookProcess: Sendable, Hashable {
        let pid: pid_t
        let role: PixelhookRole
    }

    /// Every live process whose executable is this fixture's `binary` (the hard link is private
    /// to the fixture, so no other test's process matches). Zombies are left out.
    func pixelhookProcesses() -> [PixelhookProcess] {
        WebServerFixture.processes(running: binary)
    }

    /// `pixelhookProcesses()` for any binary path; `static` so a thread without the fixture can
    /// call it.
    static func processes(running binary: String) -> [PixelhookProcess] {
        let target = (binary as NSString).resolvingSymlinksInPath
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var found: [PixelhookProcess] = []
        for entry in entries {
            guard let pid = pid_t(entry), pid != getpid(),
                  let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/exe"),
                  exe == target || exe == binary,
                  ProcTable.isAlive(pid),
                  let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let arguments = raw.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            let first = arguments.count > 1 ? arguments[1] : ""
            let role: PixelhookRole = switch first {
            case "": (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/fd/0"))?.hasPrefix("socket:") == true
                ? .supervisor : .cgi
            case "fastcgi": arguments.contains("--supervised") ? .responder : .supervisor
            case "run-queue": .runQueue
            default: .command
            }
            found.append(PixelhookProcess(pid: pid, role: role))
        }
        return found
    }

    /// `.nginxFastCGI` (`.listen`) after its responder was killed: starts another one on the
    /// same socket, as the fixture does, and waits for the socket. The caller stops it.
    func startReplacementResponder(log name: String = "pixelhook-replacement") throws -> ChildProcess {
        guard gateway == .nginxFastCGI, responderLaunch == .listen else {
            throw FixtureError("a replacement responder is for .nginxFastCGI with .listen only")
        }
        return try WebServerFixture.startResponder(binary: binary, socket: responderSocket, log: logDirectory + "/\(name).out")
    }

    /// `pixelhook fastcgi --listen SOCKET` with a clean environment; returns once something
    /// accepts connections on the socket (a dead responder's file is left behind, and the new
    /// one replaces it, possibly under the same inode number: only a connection tells).
    static func startResponder(binary: String, socket: String, log: String) throws -> ChildProcess {
        let responder = try ChildProcess.server(
            binary, ["fastcgi", "--listen", socket, "--socket-mode", "0660"],
            environment: ChildProcess.plainEnvironment, log: log)
        let deadline = Date().addingTimeInterval(10)
        while !accepts(socket) {
            guard responder.isRunning else { throw FixtureError("the replacement responder exited (\(responder.status))") }
            guard Date() < deadline else {
                kill(responder.pid, SIGKILL)
                responder.reap()
                throw FixtureError("the replacement responder did not listen on \(socket) within 10 s")
            }
            usleep(5_000)
        }
        return responder
    }

    /// Whether a connection to the unix socket at `path` is accepted (someone listens).
    static func accepts(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
    }

    /// Runs `pixelhook ARGUMENTS` (an operator command such as `retry`) on this fixture's spool
    /// and handlers, with `settings` added; its exit code (nil: killed by a signal, or still
    /// running after `timeout` seconds) and its output, stderr interleaved.
    func runPixelhook(_ arguments: [String], settings: [String: String] = [:], timeout: Double = 60) throws -> (status: Int32?, output: String) {
        let environment = ChildProcess.plainEnvironment.merging([
            "PIXELHOOK_SPOOL": spool, "PIXELHOOK_HANDLERS": handlers, "PIXELHOOK_PROJECT_IDS": WebServerFixture.projectID,
        ]) { $1 }.merging(settings) { $1 }
        let outcome = try PixelhookRun.run(arguments, binary: binary, environment: environment, separateStderr: false, timeout: timeout)
        return (outcome.exitCode, outcome.stdout)
    }
}
