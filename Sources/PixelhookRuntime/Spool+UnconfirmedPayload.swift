#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// Payloads whose name exists but which are not marked `durableMode` yet (see `Spool.store`):
/// their writer is between its link and its syncs, or a power cut struck there and the body
/// may be cut short, or an older pixelhook left them.
extension Spool {
    /// What a duplicate does with an unmarked payload under its name. A whole one is the
    /// event's payload: it is synced (its writer's sync may not have run yet) and the duplicate
    /// is answered as one. One that is not whole was cut short by a power cut before it was
    /// ever answered: the duplicate's body replaces it and counts as stored.
    func confirmUnmarked(_ path: String, against delivery: Delivery, in directory: String) throws(StorageError) -> StoreOutcome {
        let content: [UInt8]
        do {
            content = try FileContents.read(path, limit: Spool.readLimit)
        } catch let error as Errno {
            throw StorageError("read", path, error)
        } catch {
            content = []  // larger than any payload pixelhook stores: not one of ours, replace it
        }
        guard Spool.isWhole(content, for: delivery) else {
            try replaceCutPayload(path, with: delivery, in: directory)
            return .stored
        }
        let fd = try attempt("open", path) { try FileDescriptor.open(path, .readOnly, options: [.closeOnExec]) }
        defer { try? fd.close() }
        try attempt("sync", path) { try Syscalls.fdatasync(fd) }
        return .duplicate
    }

    /// Whether `content` is a whole payload for the delivery's key: the same bytes (the usual
    /// duplicate), or an envelope that parses and names the same project, build and event. A
    /// body cut short by a power cut is empty, zeros, or a JSON object without its end: none of
    /// them parses.
    static func isWhole(_ content: [UInt8], for delivery: Delivery) -> Bool {
        if content == delivery.body { return true }
        return isWhole(content, for: delivery.key)
    }

    /// Whether `content` parses as an envelope whose key is `key` (the nonce of a
    /// `webhook.test`, and the digest of an event without an upload, are not compared).
    static func isWhole(_ content: [UInt8], for key: DeliveryKey) -> Bool {
        guard let envelope = try? EnvelopeParser.parse(content) else { return false }
        let stored = DeliveryKey(envelope: envelope, body: content, testNonce: "")
        func eventName(_ segment: String) -> Substring { segment.prefix { $0 != "~" } }
        return stored.project == key.project && stored.build == key.build
            && eventName(stored.event) == eventName(key.event)
    }

    /// Replaces a payload cut short with the duplicate's body: synced under a temporary name,
    /// then renamed over it (the name never points at nothing), with its arrival noted again
    /// (the cut one's line may have been lost too) and any result removed (nothing ran it).
    private func replaceCutPayload(_ path: String, with delivery: Delivery, in directory: String) throws(StorageError) {
        try noteArrival(delivery.key, in: directory)
        try withTemporaryFile(in: directory) { temporary, fd throws(StorageError) in
            try writeAndSync(delivery.body, to: fd, path: temporary)
            unlink(StoredDelivery(directory: directory, name: "\(delivery.key.event).json").resultPath)
            guard rename(temporary, path) == 0 else { throw StorageError("rename", temporary, Errno(rawValue: errno)) }
        }
    }

    /// The largest body `PIXELHOOK_MAX_BODY` lets pixelhook accept.
    static let readLimit = 64 << 20
}

extension StoredDelivery {
    /// Whether this payload was cut short by a power cut before it was ever answered (see
    /// `Spool.store`): not marked durable, and its bytes are not a whole envelope of its key.
    /// Such a payload is not a delivery: the build's queue leaves it out (no handler run, no
    /// result, not listed by `retry` or `replay`), and a duplicate of the event replaces it.
    /// The payload is read only when it is unmarked, which outside a power cut means only
    /// while its writer is between its link and its syncs.
    func isCutShort(mode: mode_t? = nil) -> Bool {
        var info = stat()
        guard let mode = mode ?? (stat(payloadPath, &info) == 0 ? info.st_mode : nil),
              mode & 0o777 != Spool.durableMode,
              let key = DetachedQueueRunner.key(fromID: id),
              let content = try? FileContents.read(payloadPath, limit: Spool.readLimit) else { return false }
        return !Spool.isWhole(content, for: key)
    }
}
