#if canImport(Glibc)
import Glibc
#endif

/// At most one `webhook.test` stored per `window` per spool. A test is exempt from the
/// allow-list and never a duplicate, so without this anyone who knows the URL (no token set)
/// could store thousands and keep the runners busy with the test handler for hours. A real
/// Test click is stored and its handler runs; a test arriving within the window of the last
/// one stored is answered 200 all the same and only logged (`test coalesced`).
///
/// The state is the mtime of `SPOOL/last-test`: nothing to unlock or clean up after a crash,
/// and an mtime in the future (the clock was set back) counts as old.
public struct TestThrottle: Sendable {
    public let path: String
    public let windowSeconds: Int
    private let spool: Spool

    public static let name = "last-test"
    public static let defaultWindowSeconds = 10

    public init(spool: Spool, windowSeconds: Int = TestThrottle.defaultWindowSeconds) {
        self.spool = spool
        path = "\(spool.root)/\(TestThrottle.name)"
        self.windowSeconds = windowSeconds
    }

    /// Whether a test arriving now may be stored; if so, the window starts again now.
    public func admit() -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var info = stat()
        if stat(path, &info) == 0 {
            let age = now.tv_sec - info.st_mtim.tv_sec
            if age >= 0, age < windowSeconds { return false }
        }
        // A spool that cannot take this file cannot take the test either: its store says why.
        var fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0, errno == ENOENT, (try? spool.prepare()) != nil {
            fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)  // the spool's first request
        }
        if fd >= 0 {
            futimens(fd, nil)
            close(fd)
        }
        return true
    }
}
