#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// The host-wide cap on running handlers (`PIXELHOOK_MAX_HANDLERS`), across every process.
///
/// Slot N is the file `SPOOL/slots/N`; holding its `flock` is holding the slot. The kernel drops
/// the lock when the holder dies, so a crash never leaks a slot and no daemon keeps count.
public struct HandlerSlots: Sendable {
    public let directory: String
    public let count: Int

    public init(spool: Spool, count: Int) {
        directory = spool.slots
        self.count = count
    }

    /// A held slot; closing the descriptor (or dying) releases it.
    public struct Slot: ~Copyable {
        public let index: Int
        let fd: FileDescriptor
        public consuming func release() { try? fd.close() }
        deinit { try? fd.close() }
    }

    /// Waits until a slot is free, polling with a short backoff (a blocking lock on one slot
    /// would wait for that slot while another is free).
    public func acquire() throws(StorageError) -> Slot {
        var pause = 0.005
        while true {
            for index in 0..<count {
                let path = "\(directory)/\(index)"
                let fd = try attempt("open", path) {
                    try FileDescriptor.open(path, .readWrite, options: [.create, .closeOnExec], permissions: [.ownerReadWrite])
                }
                let held = try attempt("lock", path) { try Syscalls.lock(fd, wait: false) }
                if held { return Slot(index: index, fd: fd) }
                try? fd.close()
            }
            Syscalls.sleep(seconds: pause)
            pause = min(pause * 2, 0.2)
        }
    }
}
