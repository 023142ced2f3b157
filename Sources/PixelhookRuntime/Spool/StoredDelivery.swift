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

    /// The delivery of `event` in the build directory `directory`.
    public init(directory: String, event: String) {
        self.init(directory: directory, name: SpoolLayout.payloadName(event: event))
    }

    /// The EVENT segment: the payload's name without `.json`.
    public var stem: String { String(name.dropLast(SpoolLayout.payloadSuffix.count)) }
    public var payloadPath: String { "\(directory)/\(name)" }
    public var resultPath: String { companionPath(.result) }
    public var outputPath: String { companionPath(.output) }
    /// Who is running the handler now (`RunningMarker`); there only while a run is under way,
    /// or after its runner died.
    public var runningPath: String { companionPath(.running) }

    private func companionPath(_ companion: SpoolLayout.Companion) -> String {
        "\(directory)/\(SpoolLayout.companionName(event: stem, companion))"
    }

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

    /// The first `count` bytes of the handler's captured output (one read, whatever its size);
    /// nil when there is none or it cannot be read.
    public func outputHead(bytes count: Int) -> [UInt8]? {
        guard let fd = try? FileDescriptor.open(outputPath, .readOnly, options: [.closeOnExec]) else { return nil }
        defer { try? fd.close() }
        var head = [UInt8](repeating: 0, count: count)
        guard let read = try? head.withUnsafeMutableBytes({ try fd.read(into: $0) }) else { return nil }
        return Array(head.prefix(read))
    }

    /// When the payload was stored (its mtime), in milliseconds since the epoch.
    public func receivedAt() -> Int? {
        var info = stat()
        guard stat(payloadPath, &info) == 0 else { return nil }
        return info.st_mtim.tv_sec * 1000 + info.st_mtim.tv_nsec / 1_000_000
    }

    /// Writes the result atomically (temporary name, then rename): a result that exists is
    /// whole after any process crash. It is not synced: after a power cut it may be missing or
    /// empty, which only means `retry` runs the handler again (an unreadable result counts as
    /// not done), and the runner's disk flushes stay off the handler's path.
    func record(_ result: HandlerResult) throws(StorageError) {
        let temporary = companionPath(.resultTemporary)
        let fd = try attempt("create", temporary) {
            try FileDescriptor.open(temporary, .writeOnly, options: [.create, .truncate, .closeOnExec], permissions: [.ownerReadWrite])
        }
        do {
            _ = try attempt("write", temporary) { try fd.writeAll(Array((result.json.description + "\n").utf8)) }
            try? fd.close()
        } catch {
            try? fd.close()
            unlink(temporary)
            throw error
        }
        guard rename(temporary, resultPath) == 0 else {
            throw StorageError("rename", temporary, Errno(rawValue: errno))
        }
    }
}
