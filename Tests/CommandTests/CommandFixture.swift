import Foundation
import PixelhookTestSupport
import PixelhookCore
import PixelhookRuntime
#if canImport(Glibc)
import Glibc
#endif

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

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
    var spool: String { directory + "/spool" }
    var handlers: String { directory + "/handlers" }
    /// A hard link to the built binary (`BuiltBinary`) when possible, so a concurrent rebuild
    /// cannot swap it out mid-test.
    let binary: String
    /// `PIXELHOOK_*` settings every command gets; tests may change them.
    var settings: [String: String]
    private var started: [pid_t] = []
    private var counter = 0

    init() throws {
        var template = Array("/tmp/pixelhook-cmd.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw FixtureError("cannot create a temporary directory: \(String(cString: strerror(errno)))")
        }
        directory = String(cString: made)
        let built = BuiltBinary.path
        guard access(built, X_OK) == 0 else {
            try? FileManager.default.removeItem(atPath: directory)
            throw FixtureError("the pixelhook binary is missing at \(built): run swift build --build-tests first")
        }
        binary = link(built, directory + "/pixelhook") == 0 ? directory + "/pixelhook" : built
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
        for pid in started {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Handlers and payloads

    /// Writes an executable `/bin/sh` handler; `$FIXTURE` in it is the fixture's directory.
    func handler(_ name: String, _ script: String, mode: Int = 0o755) throws {
        let path = handlers + "/" + name
        let text = "#!/bin/sh\nFIXTURE='\(directory)'\n" + script + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    /// A payload shaped like the sender's.
    static func payload(event: String = "build.approved", uploadId: String = "u1", project: String = projectID) -> String {
        """
        {"event":"\(event)","projectId":"\(project)","uploadId":"\(uploadId)","fileUrl":null,\
        "status":"x","objection":null,"timestamp":"2026-03-29T14:30:00.000Z"}
        """
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
        let pid: pid_t
        let stdout: String
        let stderr: String
    }

    /// Runs `pixelhook ARGUMENTS` to its end (at most `timeout` seconds, then it is killed).
    /// `launcher` runs it through another program (`["/usr/bin/setpriv", "--reuid=..."]`).
    func run(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:],
             launcher: [String] = [], timeout: Double = 60) throws -> Outcome {
        let process = try start(arguments, stdin: stdin, environment: extra, launcher: launcher)
        return wait(process, timeout: timeout)
    }

    /// Starts `pixelhook ARGUMENTS` in the background.
    func start(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:],
               launcher: [String] = []) throws -> Started {
        counter += 1
        let base = "\(directory)/run\(counter)"
        let input = base + ".in"
        try (stdin ?? "").write(toFile: input, atomically: false, encoding: .utf8)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        CommandFixture.closeDescriptors(from: 3, in: &actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"]
        environment.merge(settings) { _, setting in setting }
        environment.merge(extra) { _, given in given }
        let argv = (launcher + [binary] + arguments).map { strdup($0) } + [nil]
        let envp = environment.filter { !$0.value.isEmpty || $0.key == "PIXELHOOK_CONFIG" }
            .map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let program = launcher.first ?? binary
        let error = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
        guard error == 0 else { throw FixtureError("cannot start \(program): \(String(cString: strerror(error)))") }
        started.append(pid)
        return Started(pid: pid, stdout: base + ".out", stderr: base + ".err")
    }

    /// Waits for a started process (killing it at the deadline) and collects its output.
    func wait(_ process: Started, timeout: Double = 60) -> Outcome {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var reaped = false
        while Date() < deadline {
            if waitpid(process.pid, &status, WNOHANG) == process.pid { reaped = true; break }
            usleep(10_000)
        }
        if !reaped {
            kill(process.pid, SIGKILL)
            waitpid(process.pid, &status, 0)
        }
        started.removeAll { $0 == process.pid }
        let exited = reaped && status & 0x7f == 0
        return Outcome(
            status: exited ? (status >> 8) & 0xff : nil,
            stdout: (try? String(contentsOfFile: process.stdout, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: process.stderr, encoding: .utf8)) ?? "")
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

    /// glibc ≥ 2.34 has `posix_spawn_file_actions_addclosefrom_np`, which Swift's Glibc module
    /// does not import; otherwise close what is open now.
    private static func closeDescriptors(from lowest: Int32, in actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, lowest)
            return
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd >= lowest { posix_spawn_file_actions_addclose(&actions, fd) }
        }
    }
}
