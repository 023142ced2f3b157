#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// Payloads whose name exists but which are not marked `durableMode` yet (see `Spool.store`):
/// their writer is between its link and its syncs, or a power cut struck there and the body
/// may be cut short, or an older pixelhook left them.
extension Spool {
    /// What a duplicate does with an unmarked payload under its name. One that was cut short
    /// (`isCutShort`) was never answered: the duplicate's body replaces it and counts as stored.
    /// Any other is the event's payload (the same bytes, or the same event sent with others):
    /// it is synced, since its writer's sync may not have run yet, and the duplicate is
    /// answered as one.
    func confirmUnmarked(_ path: String, against delivery: Delivery, in directory: String) throws(StorageError) -> StoreOutcome {
        let fd = try attempt("open", path) { try FileDescriptor.open(path, .readOnly, options: [.closeOnExec]) }
        defer { try? fd.close() }
        let content: [UInt8]
        do {
            content = try FileContents.read(fd)
        } catch let error as Errno {
            throw StorageError("read", path, error)
        } catch {
            content = []  // larger than any body PIXELHOOK_MAX_BODY allows: not one of ours, replace it
        }
        if content != delivery.body, Spool.isCutShort(content) {
            try replaceCutPayload(path, with: delivery, in: directory)
            return .stored
        }
        try attempt("sync", path) { try Syscalls.fdatasync(fd) }
        return .duplicate
    }

    /// Whether `content` is what a power cut between link and sync leaves of a payload: empty,
    /// zeros, or a JSON object without its end. Every payload pixelhook stores is a whole JSON
    /// object, so anything that is not one was cut; a whole object is kept even if today's
    /// envelope rules would refuse it (an older pixelhook stored it), and fails when run.
    static func isCutShort(_ content: [UInt8]) -> Bool {
        (try? JSONScanner.topLevelMembers(content)) == nil  // throws, or nil: not an object
    }

    /// Replaces a payload cut short with the duplicate's body: synced under a temporary name,
    /// then renamed over it (the name never points at nothing), with its arrival noted again
    /// (the cut one's line may have been lost too) and any result removed (nothing ran it).
    private func replaceCutPayload(_ path: String, with delivery: Delivery, in directory: String) throws(StorageError) {
        try noteArrival(delivery.key, in: directory)
        try withTemporaryFile(in: directory) { temporary, fd throws(StorageError) in
            try writeAndSync(delivery.body, to: fd, path: temporary)
            unlink(StoredDelivery(directory: directory, event: delivery.key.event).resultPath)
            guard rename(temporary, path) == 0 else { throw StorageError("rename", temporary, Errno(rawValue: errno)) }
        }
    }
}

extension StoredDelivery {
    /// Whether this payload was cut short by a power cut before it was ever answered (see
    /// `Spool.store`): not marked durable, and not a whole JSON object (`Spool.isCutShort`).
    /// Such a payload is not a delivery: the build's queue leaves it out (no handler run, no
    /// result, not listed by `builds`, `retry` or `replay`), and a duplicate of the event
    /// replaces it. The payload is read only when it is unmarked, which outside a power cut
    /// means only while its writer is between its link and its syncs.
    func isCutShort(mode: mode_t) -> Bool {
        guard mode & 0o777 != Spool.durableMode, let content = try? FileContents.read(payloadPath) else { return false }
        return Spool.isCutShort(content)
    }
}
