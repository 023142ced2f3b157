#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// The handlers of one build (projectId + uploadId), run one at a time in arrival order.
///
/// Whoever holds the build's `.lock` runs every delivery of the build that has no result yet,
/// in arrival order (the build's `.arrivals` list, see `Spool.store`), rescanning after each so
/// that events arriving meanwhile join the queue. No daemon is involved: the
/// process that stored an event (or `retry`) takes the lock; the others find nothing left.
public struct BuildQueue {
    public let spool: Spool
    public let settings: Settings
    public let directory: String

    public init(settings: Settings, key: DeliveryKey) {
        spool = Spool(root: settings.spool)
        self.settings = settings
        directory = spool.buildDirectory(key)
    }

    /// Runs every pending handler of the build; returns the results it wrote, by payload name.
    @discardableResult
    public func drain() throws(StorageError) -> [String: HandlerResult] {
        let lockPath = directory + "/.lock"
        let lock = try attempt("open", lockPath) {
            try FileDescriptor.open(lockPath, .readWrite, options: [.create, .closeOnExec], permissions: [.ownerReadWrite])
        }
        defer { try? lock.close() }
        _ = try attempt("lock", lockPath) { try Syscalls.lock(lock, wait: true) }

        var results: [String: HandlerResult] = [:]
        while let next = try pending().first {
            let delivery = StoredDelivery(directory: directory, name: next)
            let result = try HandlerRun(spool: spool, settings: settings, delivery: delivery).run()
            try delivery.record(result)
            results[next] = result
        }
        return results
    }

    /// Payload names with no result, in arrival order; any missing from `.arrivals` (a crash
    /// lost the line) come last, oldest change time first.
    func pending() throws(StorageError) -> [String] {
        var rank: [String: Int] = [:]
        for (index, line) in readArrivals().split(separator: "\n").enumerated() where rank[String(line)] == nil {
            rank[String(line)] = index
        }
        guard let entries = opendir(directory) else {
            throw StorageError("list", directory, Errno(rawValue: errno))
        }
        defer { closedir(entries) }
        var names: [(rank: Int, ctime: timespec, name: String)] = []
        while let entry = readdir(entries) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasSuffix(".json"), !name.hasPrefix(".") else { continue }
            let delivery = StoredDelivery(directory: directory, name: name)
            guard !Syscalls.exists(delivery.resultPath) else { continue }
            var info = stat()
            guard stat(delivery.payloadPath, &info) == 0 else { continue }
            names.append((rank[delivery.stem] ?? Int.max, info.st_ctim, name))
        }
        return names.sorted {
            ($0.rank, $0.ctime.tv_sec, $0.ctime.tv_nsec, $0.name) < ($1.rank, $1.ctime.tv_sec, $1.ctime.tv_nsec, $1.name)
        }.map(\.name)
    }

    private func readArrivals() -> String {
        let bytes = (try? FileContents.read("\(directory)/\(Spool.arrivalsName)")) ?? []
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// One delivery on disk: `EVENT.json` and the files that sit beside it.
public struct StoredDelivery: Sendable {
    public let directory: String
    /// The payload's file name, `EVENT.json`.
    public let name: String

    public init(directory: String, name: String) {
        self.directory = directory
        self.name = name
    }

    var stem: String { String(name.dropLast(".json".count)) }
    public var payloadPath: String { "\(directory)/\(name)" }
    public var resultPath: String { "\(directory)/\(stem).result" }
    public var outputPath: String { "\(directory)/\(stem).output" }

    /// `PROJECT/BUILD/EVENT`, the same as `DeliveryKey.id`.
    public var id: String {
        let parts = directory.split(separator: "/").suffix(2)
        return parts.joined(separator: "/") + "/" + stem
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
