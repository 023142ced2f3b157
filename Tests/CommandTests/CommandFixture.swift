import Foundation
import PixelhookTestSupport
import PixelhookCore
import PixelhookRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The built `pixelhook` binary run as an operator runs it, against a temporary spool and
/// handlers directory of its own, removed when the test ends.
///
/// ```swift
/// let fixture = try CommandFixture()
/// try fixture.handler("default", "exit 3")
/// let outcome = try fixture.run(["retry"])
/// #expect(outcome.status == 0)
/// ```
///
/// Processes are started with `posix_spawn`, stdio on files in the directory (no pipe a stray
/// process could hold open), nothing inherited above stderr, and only the environment given.
final class CommandFixture {
    static let projectID = "p1"

    let directory: String
    private let temporary: TemporaryDirectory
    var spool: String { directory + "/spool" }
    var handlers: String { directory + "/handlers" }
    /// `PixelhookRun.link`: a concurrent rebuild cannot swap it out mid-test.
    let binary: String
    /// `PIXELHOOK_*` settings every command gets; tests may change them.
    var settings: [String: String]
    private var started: [ChildProcess] = []
    private var counter = 0

    init() throws {
        temporary = try TemporaryDirectory(prefix: "pixelhook-cmd")
        directory = temporary.path
        binary = try PixelhookRun.link(into: directory)
        try FileManager.default.createDirectory(atPath: directory + "/handlers", withIntermediateDirectories: true)
        settings = [
            "PIXELHOOK_SPOOL": directory + "/spool",
            "PIXELHOOK_HANDLERS": directory + "/handlers",
            "PIXELHOOK_PROJECT_IDS": CommandFixture.projectID,
            "PIXELHOOK_HANDLER_TIMEOUT": "30",
            // Empty: no config file, so one on this machine (~/.config/pixelhook, /etc/pixelhook)
            // cannot change a test's settings. Set it to nil to let pixelhook look for one.
            "PIXELHOOK_CONFIG": "",
        ]
    }

    deinit {
        // Whatever a test left running (a stuck command); still our unreaped child, so the pid
        // cannot belong to anyone else.
        for process in started { process.kill() }
    }

    // MARK: Handlers and payloads

    /// Writes an executable `/bin/sh` handler; `$FIXTURE` in it is the fixture's directory.
    func handler(_ name: String, _ script: String, mode: Int = 0o755) throws {
        try ShellScript.write("FIXTURE='\(directory)'\n" + script, to: handlers + "/" + name, mode: mode_t(mode))
    }

    /// A payload shaped like the sender's.
    static func payload(event: String = "build.approved", uploadId: String = "u1", project: String = projectID) -> String {
        SenderPayload.json(event: event, projectId: project, uploadId: uploadId, status: "x", timestamp: "2026-03-29T14:30:00.000Z")
    }

    /// Stores a payload in the spool without running its handler, as a request whose runner
    /// never started would leave it; returns its delivery id.
    @discardableResult
    func store(event: String = "build.approved", uploadId: String = "u1") throws -> String {
        let body = Array(CommandFixture.payload(event: event, uploadId: uploadId).utf8)
        let envelope = try EnvelopeParser.parse(body)
        let key = DeliveryKey(envelope: envelope, body: body, testNonce: "n")
        _ = try Spool(root: spool).store(Delivery(envelope: envelope, body: body, key: key))
        return key.id
    }

    func read(_ relativePath: String) -> String? {
        try? String(contentsOfFile: directory + "/" + relativePath, encoding: .utf8)
    }

    func exists(_ relativePath: String) -> Bool { FileManager.default.fileExists(atPath: directory + "/" + relativePath) }

    /// Lines of a file the handlers append to; 0 when it does not exist.
    func lineCount(_ relativePath: String) -> Int {
        read(relativePath)?.split(separator: "\n").count ?? 0
    }

    /// Sets a file's modification time `seconds` into the past.
    func age(_ relativePath: String, seconds: Int) throws {
        let now = Clock.now()
        var times = [timespec(tv_sec: now.tv_sec - seconds, tv_nsec: 0), timespec(tv_sec: now.tv_sec - seconds, tv_nsec: 0)]
        guard utimensat(AT_FDCWD, directory + "/" + relativePath, &times, 0) == 0 else {
            throw FixtureError("cannot set the times of \(relativePath): \(String(cString: strerror(errno)))")
        }
    }

    // MARK: Running pixelhook

    struct Outcome: CustomStringConvertible {
        /// The exit code; nil when killed by a signal or still running at the deadline.
        let status: Int32?
        let stdout: String
        let stderr: String
        var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast() }
        var description: String { "status \(status.map(String.init) ?? "none"), stdout \(stdout.debugDescription), stderr \(stderr.debugDescription)" }
    }

    /// A started `pixelhook` process and where its output goes.
    struct Started {
        let process: ChildProcess
        let stdout: String
        let stderr: String
        let started = Date()
        var pid: pid_t { process.pid }
    }

    /// Runs `pixelhook ARGUMENTS` to its end (at most `timeout` seconds, then it is killed).
    /// `launcher` runs it through another program (`["/usr/bin/setpriv", "--reuid=..."]`).
    func run(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:],
             launcher: [String] = [], timeout: Double = 60) throws -> Outcome {
        let process = try start(arguments, stdin: stdin, environment: extra, launcher: launcher)
        return wait(process, timeout: timeout)
    }

    /// Starts `pixelhook ARGUMENTS` in the background, stdio on files in the directory.
    func start(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:],
               launcher: [String] = []) throws -> Started {
        counter += 1
        let base = "\(directory)/run\(counter)"
        try (stdin ?? "").write(toFile: base + ".in", atomically: false, encoding: .utf8)
        // An empty setting is left out, except PIXELHOOK_CONFIG, whose empty value means "no file".
        let environment = ChildProcess.plainEnvironment.merging(settings) { $1 }.merging(extra) { $1 }
            .filter { !$0.value.isEmpty || $0.key == "PIXELHOOK_CONFIG" }
        let process = try PixelhookRun.start(arguments, binary: binary, environment: environment, launcher: launcher,
                                             stdin: base + ".in", stdout: base + ".out", stderr: base + ".err")
        started.append(process)
        return Started(process: process, stdout: base + ".out", stderr: base + ".err")
    }

    /// Waits for a started process (killing it at the deadline) and collects its output.
    func wait(_ run: Started, timeout: Double = 60) -> Outcome {
        let outcome = run.process.finish(timeout: timeout, started: run.started, stdout: run.stdout, stderr: run.stderr)
        started.removeAll { $0 === run.process }
        return Outcome(status: outcome.exitCode, stdout: outcome.stdout, stderr: outcome.stderr)
    }

    /// Polls until `condition` holds; false after `timeout` seconds.
    func eventually(timeout: Double = 20, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}
