import Foundation
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of its own under a temporary directory: `initdb`, then `pg_ctl start`
/// listening on a unix socket in that directory only (no TCP port), trust authentication.
/// PostgreSQL refuses to run as root, so as root it runs as the `postgres` user Debian's
/// package creates. Stopped by its postmaster's PID (never by name), and removed, on `deinit`.
final class ThrowawayPostgres {
    let directory: String
    var dataDirectory: String { directory + "/data" }
    /// The libpq connection string of `PIXELHOOK_CLUSTER`.
    var conninfo: String { "host=\(directory) dbname=postgres user=postgres" }
    private let bin: String

    init() throws {
        bin = try ThrowawayPostgres.binDirectory()
        var template = Array("/tmp/pixelhook-pg.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp: \(String(cString: strerror(errno)))") }
        directory = String(cString: made)
        if geteuid() == 0 {
            guard let account = getpwnam("postgres") else { throw FixtureError("there is no postgres user (Debian's postgresql package makes it)") }
            chown(directory, account.pointee.pw_uid, account.pointee.pw_gid)
        }
        do {
            try asPostgres(bin + "/initdb", ["-D", dataDirectory, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
            try start()
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Debian's newest installed server (`/usr/lib/postgresql/N/bin`).
    static func binDirectory() throws -> String {
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted()
        guard let newest = versions.last, access("/usr/lib/postgresql/\(newest)/bin/initdb", X_OK) == 0 else {
            throw FixtureError("no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql)")
        }
        return "/usr/lib/postgresql/\(newest)/bin"
    }

    /// Starts the server and waits until it accepts connections (`pg_ctl -w`).
    func start() throws {
        try asPostgres(bin + "/pg_ctl", [
            "-D", dataDirectory, "-l", directory + "/server.log", "-w", "-t", "30",
            "-o", "-c listen_addresses='' -c unix_socket_directories=\(directory) -c fsync=off -c max_connections=60",
            "start",
        ])
    }

    /// The postmaster's PID, from the first line of `postmaster.pid`; nil when it is not running.
    var pid: pid_t? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = pid_t(first), kill(pid, 0) == 0 else { return nil }
        return pid
    }

    /// Fast shutdown (SIGINT to the postmaster: sessions are cut), and waits until it is gone.
    func stop() {
        guard let pid else { return }
        kill(pid, SIGINT)
        let deadline = Date().addingTimeInterval(20)
        while kill(pid, 0) == 0, Date() < deadline { usleep(20_000) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
    }

    /// Runs one SQL statement with psql; its rows, one a line, columns separated by `|`.
    func query(_ sql: String) throws -> [String] {
        let (status, output) = try ToolRun.run(bin + "/psql", ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
                                               environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"])
        guard status == 0 else { throw FixtureError("psql \(sql): \(output)") }
        return output.split(separator: "\n").map(String.init)
    }

    /// Runs a server tool to its end, as `postgres` when we are root. Its output goes to a file,
    /// not a pipe: `pg_ctl start` leaves the server holding whatever its stdout was.
    private func asPostgres(_ tool: String, _ arguments: [String]) throws {
        let (executable, argv) = geteuid() == 0 ? ("/usr/sbin/runuser", ["-u", "postgres", "--", tool] + arguments) : (tool, arguments)
        let log = directory + "/tool.log"
        let process = try ChildProcess.server(executable, argv, environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"], log: log)
        let status = process.waitForExit(timeout: 60)
        guard status == 0 else {
            throw FixtureError("\(tool) \(arguments.joined(separator: " ")) failed (\(status.map(String.init) ?? "timeout")): "
                + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? ""))
        }
    }
}
