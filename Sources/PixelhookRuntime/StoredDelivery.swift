#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// One delivery on disk: `EVENT.json` and the files that sit beside it.
public struct StoredDelivery: Sendable, Equatable {
    public let directory: String
    /// The payload's file name, `EVENT.json`.
    public let name: String

    public init(directory: String, name: String) {
        self.directory = directory
        self.name = name
    }

    /// The EVENT segment: the payload's name without `.json`.
    public var stem: String { String(name.dropLast(".json".count)) }
    public var payloadPath: String { "\(directory)/\(name)" }
    public var resultPath: String { "\(directory)/\(stem).result" }
    public var outputPath: String { "\(directory)/\(stem).output" }

    /// `PROJECT/BUILD/EVENT`, the same as `DeliveryKey.id`.
    public var id: String {
        let parts = directory.split(separator: "/").suffix(2)
        return parts.joined(separator: "/") + "/" + stem
    }

    public var hasResult: Bool { Syscalls.exists(resultPath) }

    /// The stored result; nil when there is none or it cannot be read.
    public func result() -> HandlerResult? {
        guard let bytes = try? FileContents.read(resultPath, limit: 1 << 20) else { return nil }
        return HandlerResult(stored: bytes)
    }

    /// When the payload was stored (its mtime), in milliseconds since the epoch.
    public func receivedAt() -> Int? {
        var info = stat()
        guard stat(payloadPath, &info) == 0 else { return nil }
        return info.st_mtim.tv_sec * 1000 + info.st_mtim.tv_nsec / 1_000_000
    }

    /// Writes the result atomically and durably (temporary name, sync, rename): a result that
    /// exists is whole, and one lost in a crash only means `retry` runs the handler again.
    func record(_ result: HandlerResult) throws(StorageError) {
        let temporary = resultPath + ".tmp"
        let fd = try attempt("create", temporary) {
            try FileDescriptor.open(temporary, .writeOnly, options: [.create, .truncate, .closeOnExec], permissions: [.ownerReadWrite])
        }
        do {
            _ = try attempt("write", temporary) { try fd.writeAll(Array((result.json.description + "\n").utf8)) }
            try attempt("sync", temporary) { try Syscalls.fdatasync(fd) }
            try? fd.close()
        } catch {
            try? fd.close()
            unlink(temporary)
            throw error
        }
        guard rename(temporary, resultPath) == 0 else {
            throw StorageError("rename", temporary, Errno(rawValue: errno))
        }
        try attempt("sync", directory) { try Syscalls.syncDirectory(directory) }
    }
}
