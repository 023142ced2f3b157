#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A cap held as `flock`s on numbered files, across every process: `/dev/shm/pixelhook-UID/N`
/// caps the user's running handlers on the host (`PIXELHOOK_MAX_HANDLERS`, see
/// `HandlerSlots+User`), `SPOOL/runners/N` caps one spool's queue runners.
///
/// Holding slot N's lock is holding the slot. The kernel drops the lock when the holder dies,
/// so a crash never leaks a slot and no daemon keeps count.
public struct HandlerSlots: Sendable {
    public let directory: String
    public let count: Int

    public init(directory: String, count: Int) {
        self.directory = directory
        self.count = max(1, count)
    }

    /// The runners' slots: as many runners as handlers may run at once. Per spool, unlike the
    /// handlers' slots: a gateway that finds every runner slot of its spool held relies on one
    /// of those runners seeing its build listed (`DetachedQueueRunner`), and only a runner of
    /// the same spool looks at that list.
    public static func runners(spool: Spool, count: Int) -> HandlerSlots {
        HandlerSlots(directory: spool.layout.runners, count: count)
    }

    /// A held slot; closing the descriptor (or dying) releases it.
    public struct Slot: ~Copyable {
        public let index: Int
        let fd: FileDescriptor
        /// The locked descriptor, for handing the slot to a child process (a runner slot to the
        /// runner, a handler slot to the handler): a `flock` belongs to the open file, so the
        /// child holds it too, and once we close ours.
        public var descriptor: Int32 { fd.rawValue }
        /// Ends the slot now. Consuming `self` runs `deinit`, the one place that closes: a close
        /// here as well was a double close, which in the FastCGI responder closed whatever
        /// descriptor another worker thread had just been given the same number for (a 502).
        public consuming func release() {}
        deinit { try? fd.close() }

        /// A slot a parent process took and passed down as `descriptor`.
        public static func inherited(index: Int, descriptor: Int32) -> Slot {
            Slot(index: index, fd: FileDescriptor(rawValue: descriptor))
        }
    }

    /// Waits until a slot is free, polling with a short backoff (a blocking lock on one slot
    /// would wait for that slot while another is free).
    public func acquire() throws(StorageError) -> Slot {
        var pause = 0.002
        while true {
            if let slot = try tryAcquire() { return slot }
            Syscalls.sleep(seconds: pause)
            pause = min(pause * 2, 0.05)
        }
    }

    /// A free slot, or nil at once when every slot is held.
    public func tryAcquire() throws(StorageError) -> Slot? {
        for index in 0..<count {
            let path = "\(directory)/\(index)"
            let fd = try attempt("open", path) {
                try FileDescriptor.open(path, .readWrite, options: [.create, .closeOnExec], permissions: [.ownerReadWrite])
            }
            let held = try attempt("lock", path) { try Syscalls.lock(fd, wait: false) }
            if held { return Slot(index: index, fd: fd) }
            try? fd.close()
        }
        return nil
    }

    /// Whether some slot is free right now (probed by locking it and letting go at once).
    public var hasFree: Bool {
        guard let slot = try? tryAcquire() else { return false }
        slot.release()
        return true
    }
}
