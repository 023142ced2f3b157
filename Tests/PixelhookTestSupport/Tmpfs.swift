import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A size-limited tmpfs mounted on a directory, for storage faults a test can switch on and off:
/// fill it up, remount it read-only, give the space back.
///
/// ```swift
/// let disk = try Tmpfs(at: directory + "/spool", size: "512k")
/// defer { disk.unmount() }
/// try disk.fill()                  // ENOSPC from now on
/// try disk.remount(readOnly: true) // EROFS from now on
/// ```
///
/// Needs `mount(2)` (root, or CAP_SYS_ADMIN): `Tmpfs.unavailable` says why not, for a Swift
/// Testing condition. `unmount()` detaches lazily (MNT_DETACH), so it succeeds even while a
/// process still has a file open there, and leaves an empty directory behind.
public final class Tmpfs {
    public let path: String
    private var mounted = true

    public init(at path: String, size: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try ToolRun.check("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", path])
    }

    deinit { unmount() }

    /// Idempotent; never throws (it runs in cleanup paths).
    public func unmount() {
        guard mounted else { return }
        mounted = false
        if umount2(path, Int32(MNT_DETACH)) != 0 {
            _ = try? ToolRun.check("/bin/umount", ["-l", path])
        }
    }

    public func remount(readOnly: Bool) throws {
        try ToolRun.check("/bin/mount", ["-o", readOnly ? "remount,ro" : "remount,rw", path])
    }

    /// The filler file `fill()` writes.
    public var fillerPath: String { path + "/filler" }

    /// Writes `filler` until the filesystem is full (ENOSPC).
    public func fill() throws {
        let fd = open(fillerPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FixtureError("open \(fillerPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x46, count: 4096)
        while true {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == ENOSPC { return }
                throw FixtureError("write \(fillerPath): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Gives the space back.
    public func free() { unlink(fillerPath) }

    /// Free bytes as `statvfs` reports them.
    public var available: Int {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return -1 }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    /// nil when a tmpfs can be mounted here; otherwise why not (the reason a test is skipped).
    public static let unavailable: String? = {
        guard let directory = try? TemporaryDirectory(prefix: "pixelhook-mount-probe") else { return "cannot create a temporary directory" }
        let probe = directory.path
        defer { withExtendedLifetime(directory) {} }  // removed once the probe is done
        do {
            try ToolRun.check("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe])
        } catch {
            return "mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN): \(error)"
        }
        if umount2(probe, Int32(MNT_DETACH)) != 0 { _ = try? ToolRun.check("/bin/umount", ["-l", probe]) }
        return nil
    }()
}
