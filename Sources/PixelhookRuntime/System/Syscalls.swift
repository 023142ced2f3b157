#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import SystemPackage

/// The handful of calls swift-system does not wrap (fsync, mkdir, link, flock), with its
/// `Errno` so callers handle one error type.
package enum Syscalls {
    static func check(_ result: Int32) throws(Errno) {
        if result != 0 { throw Errno(rawValue: errno) }
    }

    static func fsync(_ fd: FileDescriptor) throws(Errno) { try check(Glibc.fsync(fd.rawValue)) }
    static func fdatasync(_ fd: FileDescriptor) throws(Errno) { try check(Glibc.fdatasync(fd.rawValue)) }

    /// Makes the entries of `directory` durable (a new link or rename in it).
    static func syncDirectory(_ directory: String) throws(Errno) {
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        defer { _ = Glibc.close(fd) }
        try check(Glibc.fsync(fd))
    }

    /// `mkdir`; `true` if this call created it, `false` if it already existed as a directory.
    @discardableResult
    static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws(Errno) -> Bool {
        if Glibc.mkdir(path, mode) == 0 { return true }
        let error = errno
        guard error == EEXIST else { throw Errno(rawValue: error) }
        return false
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Retries on EINTR; a lock held by a process dies with it (flock semantics).
    static func lock(_ fd: FileDescriptor, exclusive: Bool = true, wait: Bool) throws(Errno) -> Bool {
        var operation = exclusive ? LOCK_EX : LOCK_SH
        if !wait { operation |= LOCK_NB }
        while true {
            if flock(fd.rawValue, operation) == 0 { return true }
            let error = errno
            if error == EINTR { continue }
            if error == EWOULDBLOCK { return false }
            throw Errno(rawValue: error)
        }
    }

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    package static func sleep(seconds: Double) {
        var remaining = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        while true {
            var request = remaining
            guard nanosleep(&request, &remaining) != 0, errno == EINTR else { return }
        }
    }
}
