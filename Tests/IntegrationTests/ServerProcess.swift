import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A web server process the fixture started: `posix_spawn` with default signal handling, an
/// empty signal mask, its own process group and no inherited descriptors beyond stdio.
///
/// Foundation's `Process` passes on the test runner's blocked signal mask, with which lighttpd
/// and fcgiwrap ignore SIGTERM; and a stray descriptor (another test's curl pipe) must not keep a
/// server tied to an unrelated request.
final class ServerProcess {
    let pid: pid_t
    let name: String
    private var exitStatus: Int32?

    /// Starts `executable` with `environment`, stdin from /dev/null, stdout and stderr to `log`.
    init(_ executable: String, _ arguments: [String], environment: [String: String], log: String) throws {
        name = (executable as NSString).lastPathComponent
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        ServerProcess.closeDescriptors(from: 3, in: &actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        // Its own process group: Apache's prefork MPM signals its whole group when it stops,
        // which would otherwise be the test runner's.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let error = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard error == 0 else {
            throw FixtureError("cannot start \(executable): \(String(cString: strerror(error)))")
        }
        self.pid = pid
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

    /// Not yet exited (reaps it if it has).
    var isRunning: Bool {
        guard exitStatus == nil else { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return true }
        exitStatus = result == pid ? status : -1
        return false
    }

    /// The raw wait status once exited, for messages.
    var status: String { exitStatus.map { "status \($0)" } ?? "running" }

    /// Waits for the exit (after a signal); gives up after `timeout` seconds.
    func reap(timeout: Double = 5) {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning, Date() < deadline { usleep(10_000) }
    }

    /// Waits up to `timeout` seconds for the exit; the exit code if it exited normally, nil if
    /// it is still running or was killed by a signal.
    func waitForExit(timeout: Double) -> Int32? {
        reap(timeout: timeout)
        guard let status = exitStatus, status != -1, status & 0x7f == 0 else { return nil }
        return (status >> 8) & 0xff
    }
}
