#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A build's `.lock`, held (`flock`) by whoever runs the build's handlers or removes its
/// deliveries. The kernel drops it when the holder dies, so a crash never leaves a build locked.
///
/// `pixelhook gc` removes the lock file of a build it empties, while holding it. A process that
/// was waiting on that file then holds a lock nobody else can see, so after locking we check
/// that the path still names the file we locked, and start over if not.
final class BuildLock {
    let path: String
    private var fd: FileDescriptor?

    private init(path: String, fd: FileDescriptor) {
        self.path = path
        self.fd = fd
    }

    static func path(in directory: String) -> String { SpoolLayout.lockPath(in: directory) }

    /// Takes the lock of the build in `directory`, waiting for it or not; nil when `wait` is
    /// false and someone else holds it. Throws `ENOENT` when the build directory is gone (`gc`
    /// removed it): see `isGone`.
    static func acquire(in directory: String, wait: Bool) throws(StorageError) -> BuildLock? {
        let path = path(in: directory)
        while true {
            let fd = try attempt("open", path) {
                try FileDescriptor.open(path, .readWrite, options: [.create, .closeOnExec], permissions: [.ownerReadWrite])
            }
            let held: Bool
            do {
                held = try attempt("lock", path) { try Syscalls.lock(fd, wait: wait) }
            } catch {
                try? fd.close()
                throw error
            }
            guard held else {
                try? fd.close()
                return nil
            }
            var locked = stat()
            var named = stat()
            if fstat(fd.rawValue, &locked) == 0, stat(path, &named) == 0,
               locked.st_dev == named.st_dev, locked.st_ino == named.st_ino {
                return BuildLock(path: path, fd: fd)
            }
            try? fd.close()  // the file was removed meanwhile: lock the one there now
        }
    }

    /// The build directory no longer exists: a build `gc` emptied and removed, with nothing to run.
    static func isGone(_ error: StorageError) -> Bool { error.errno == .noSuchFileOrDirectory }

    /// Whether someone holds the lock right now (a handler of the build is running). Probes
    /// with a shared lock, released at once; a missing lock file is a free lock.
    static func isHeld(in directory: String) -> Bool {
        let fd = open(path(in: directory), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        while flock(fd, LOCK_SH | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            return errno == EWOULDBLOCK
        }
        return false
    }

    /// The locked descriptor, for a handler to hold as well (`HandlerProcess.inheritedLocks`).
    var descriptor: Int32? { fd?.rawValue }

    /// Removes the lock file while still holding it (the build is being removed); waiters notice.
    func unlinkFile() { unlink(path) }

    /// Unlocks (closing the descriptor); also done when the lock is dropped.
    func release() {
        try? fd?.close()
        fd = nil
    }

    deinit { release() }
}
