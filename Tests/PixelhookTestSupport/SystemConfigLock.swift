import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Held by a test while it changes `/etc/pixelhook` (installs the package, writes the system
/// config file), so that two such tests, in parallel suites or in separate test processes, never
/// overlap: an exclusive `flock` on a file in /run/lock, released when the lock is deinitialised.
public final class SystemConfigLock {
    public static let path = "/run/lock/pixelhook-system-config.lock"
    private let fd: Int32

    /// Waits until no other holder has it.
    public init() throws {
        fd = open(SystemConfigLock.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FixtureError("open \(SystemConfigLock.path): \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                close(fd)
                throw FixtureError("flock \(SystemConfigLock.path): \(String(cString: strerror(errno)))")
            }
        }
    }

    deinit { close(fd) }  // closing the last descriptor releases the lock
}
