import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A process a test starts: the one way the test targets start programs (servers, the built
/// `pixelhook`, curl, mount).
///
/// `posix_spawn` with an empty signal mask and every signal at its default action, stdio on
/// files (no pipe a stray process could hold open), nothing inherited above stderr, and exactly
/// the environment given. Foundation's `Process` passes on the test runner's blocked signal mask,
/// with which lighttpd and fcgiwrap ignore SIGTERM; and a stray descriptor (another test's curl
/// pipe) must not keep a server tied to an unrelated request.
///
/// Owned by the test: it is not signalled or reaped by anyone else, so its PID stays its own
/// until `isRunning` or a wait has reaped it.
public final class ChildProcess {
    public let pid: pid_t
    /// The executable's file name, for messages.
    public let name: String
    /// The raw wait status once reaped.
    private var waitStatus: Int32?

    /// Starts `executable` (an absolute path; `arguments` exclude argv[0]).
    /// - Parameters:
    ///   - stdin: a file to read; `/dev/null` by default.
    ///   - stdout: a file, created if missing; `/dev/null` by default.
    ///   - stderr: another file; nil writes stderr where stdout goes.
    ///   - appending: add to `stdout`/`stderr` instead of truncating them (a server's log).
    ///   - directory: its working directory; the test runner's by default.
    ///   - ownProcessGroup: in a process group of its own (Apache's prefork MPM signals its
    ///     whole group when it stops, which would otherwise be the test runner's).
    public init(_ executable: String, _ arguments: [String], environment: [String: String],
                stdin: String = "/dev/null", stdout: String = "/dev/null", stderr: String? = nil,
                appending: Bool = false, directory: String? = nil, ownProcessGroup: Bool = false) throws {
        name = (executable as NSString).lastPathComponent
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let writing = O_WRONLY | O_CREAT | (appending ? O_APPEND : O_TRUNC)
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, writing, 0o644)
        if let stderr {
            posix_spawn_file_actions_addopen(&actions, 2, stderr, writing, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        if let directory { try ChildProcess.changeDirectory(to: directory, in: &actions) }
        ChildProcess.closeDescriptors(from: 3, in: &actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let error = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard error == 0 else { throw FixtureError("cannot start \(executable): \(String(cString: strerror(error)))") }
        self.pid = pid
    }

    /// A server: in a process group of its own, stdin from /dev/null, stdout and stderr added
    /// to `log`.
    public static func server(_ executable: String, _ arguments: [String], environment: [String: String],
                              log: String) throws -> ChildProcess {
        try ChildProcess(executable, arguments, environment: environment, stdout: log, appending: true, ownProcessGroup: true)
    }

    /// The environment the fixtures give a program: a plain PATH and a UTF-8 locale, nothing of
    /// the test runner's (a stray PIXELHOOK_TOKEN must not reach pixelhook).
    public static let plainEnvironment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"]

    /// Not yet exited (reaps it if it has).
    public var isRunning: Bool {
        guard waitStatus == nil else { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return true }
        if result == -1, errno == EINTR { return true }
        waitStatus = result == pid ? status : -1
        return false
    }

    /// The raw wait status once exited, for messages.
    public var status: String { waitStatus.map { "status \($0)" } ?? "running" }

    /// The exit code if it exited, nil while it runs or when a signal ended it.
    public var exitCode: Int32? {
        guard let status = waitStatus, status != -1, status & 0x7f == 0 else { return nil }
        return (status >> 8) & 0xff
    }

    /// The signal that ended it, nil while it runs or when it exited.
    public var terminatingSignal: Int32? {
        guard let status = waitStatus, status != -1, status & 0x7f != 0 else { return nil }
        return status & 0x7f
    }

    /// Polls for the exit for up to `timeout` seconds (after a signal, or for a bounded run).
    public func reap(timeout: Double = 5) {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning, Date() < deadline { usleep(10_000) }
    }

    /// Waits up to `timeout` seconds for the exit: the exit code, or nil if it still runs or a
    /// signal ended it.
    public func waitForExit(timeout: Double) -> Int32? {
        reap(timeout: timeout)
        return exitCode
    }

    /// Blocks until it exits (for a program bounded by its own timeout, such as `curl -m`).
    public func waitForExit() {
        guard waitStatus == nil else { return }
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, 0) } while result == -1 && errno == EINTR
        waitStatus = result == pid ? status : -1
    }

    /// SIGKILL and reap, if it still runs.
    public func kill() {
        guard isRunning else { return }
        Glibc.kill(pid, SIGKILL)
        waitForExit()
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

    /// glibc ≥ 2.29's `posix_spawn_file_actions_addchdir_np`, not imported either (a `chdir`
    /// of our own would move every thread of the test runner).
    private static func changeDirectory(to directory: String, in actions: inout posix_spawn_file_actions_t) throws {
        typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else {
            throw FixtureError("this C library cannot start a process in another directory (glibc 2.29 or later)")
        }
        _ = unsafeBitCast(symbol, to: AddChdir.self)(&actions, directory)
    }
}
