#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// A runner that waits a moment for the next delivery before it exits, so that a burst of
/// deliveries to the FastCGI responder costs one runner process, not one per delivery (#15
/// item 6: at one request at a time, starting a runner was most of a delivery's CPU time).
///
/// The waiting runner holds `SPOOL/runners/idle` locked (exclusive) and watches `pending/`
/// with inotify. A gateway that has listed its build probes that lock (`isWaiting`): held, it
/// starts no runner. Why nothing is missed: the watch is set before the runner first reads the
/// list, and its events are dropped just before each reading; so a build listed before the
/// gateway's probe failed was either on a list the runner read, or woke the wait, or is read
/// after the runner let the lock go (it reads the list once more then: the pool's rule,
/// `DetachedQueueRunner`).
///
/// Only the FastCGI responder's runners wait (`DetachedQueueRunner.start(linger:)`): it is a
/// server process that stays anyway, while the one-shot CGI program promises that nothing
/// stays behind once the handler has ended (SPEC, "Handlers").
public final class IdleRunner {
    /// How long a FastCGI responder's runner waits for the next delivery: long enough for the
    /// next event of a burst, short enough to be gone long before the next stage of a build.
    public static let linger = 1.0

    private let watch: Int32
    private let lockPath: String

    /// Watches `spool`'s pending list; nil if inotify is unavailable (the runner then exits as
    /// it always did).
    public init?(spool: Spool) {
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { return nil }
        guard inotify_add_watch(fd, spool.layout.pending, UInt32(IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)) >= 0 else {
            close(fd)
            return nil
        }
        watch = fd
        lockPath = spool.layout.idleRunnerLock
    }

    deinit { close(watch) }

    /// Whether a runner of `spool` is waiting for the next delivery, and so sees a build listed
    /// before this call. Probed with a shared lock, so gateways probing at once do not see each
    /// other as a waiting runner.
    public static func isWaiting(spool: Spool) -> Bool {
        let fd = open(spool.layout.idleRunnerLock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK
    }

    /// Forgets what the watch saw so far; called before each reading of the list, so that
    /// `waitForListedBuild` wakes only for entries that reading may have missed.
    public func forgetEvents() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ read(watch, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// Waits up to `seconds` for a build to be listed since the last `forgetEvents`, as the one
    /// waiting runner; true when one may be (the lock is let go first, so gateways start
    /// runners again while this one works), false when the time passed or another runner is
    /// the one waiting. An entry that cannot be claimed does not wake it again and again: only
    /// a new entry does.
    public func waitForListedBuild(seconds: Double) -> Bool {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }  // unlocks
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
        let deadline = Syscalls.monotonicSeconds() + seconds
        while true {
            let left = deadline - Syscalls.monotonicSeconds()
            guard left > 0 else { return false }
            var poller = pollfd(fd: watch, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32((left * 1000).rounded(.up)))
            if ready > 0 { return true }
            if ready < 0, errno != EINTR { return false }
        }
    }
}
