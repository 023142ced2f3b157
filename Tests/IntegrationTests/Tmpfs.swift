import Foundation
import PixelhookTestSupport
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
final class Tmpfs {
    let path: String
    private var mounted = true

    init(at path: String, size: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Tmpfs.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", path])
    }

    deinit { unmount() }

    /// Idempotent; never throws (it runs in cleanup paths).
    func unmount() {
        guard mounted else { return }
        mounted = false
        if umount2(path, Int32(MNT_DETACH)) != 0 {
            _ = try? Tmpfs.run("/bin/umount", ["-l", path])
        }
    }

    func remount(readOnly: Bool) throws {
        try Tmpfs.run("/bin/mount", ["-o", readOnly ? "remount,ro" : "remount,rw", path])
    }

    /// The filler file `fill()` writes.
    var fillerPath: String { path + "/filler" }

    /// Writes `filler` until the filesystem is full (ENOSPC).
    func fill() throws {
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
    func free() { unlink(fillerPath) }

    /// Free bytes as `statvfs` reports them.
    var available: Int {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return -1 }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }

    /// nil when a tmpfs can be mounted here; otherwise why not (the reason a test is skipped).
    static let unavailable: String? = {
        var template = Array("/tmp/pixelhook-mount-probe.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { return "cannot create a temporary directory" }
        let probe = String(cString: made)
        defer { rmdir(probe) }
        do {
            try run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe])
        } catch {
            return "mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN): \(error)"
        }
        if umount2(probe, Int32(MNT_DETACH)) != 0 { _ = try? run("/bin/umount", ["-l", probe]) }
        return nil
    }()

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String { try ToolRun.check(tool, arguments) }
}
