#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// The handlers of one build (projectId + uploadId), run one at a time in arrival order.
///
/// Whoever holds the build's `.lock` runs the build's deliveries that a `Selection` picks, in
/// arrival order (the build's `.arrivals` list, see `Spool.store`), rescanning after each so
/// that events arriving meanwhile join the queue. No daemon is involved: the process that
/// stored an event takes the lock and runs what has no result yet (`drain()`); `retry` also
/// reruns what failed (`drain(.pending(rerunning: …), wait: false)`); `replay` reruns named
/// deliveries whatever their result (`drain(.named(…), wait: true)`).
public struct BuildQueue {
    public let spool: Spool
    public let settings: Settings
    public let build: BuildID
    public let directory: String

    public init(settings: Settings, key: DeliveryKey) {
        self.init(settings: settings, build: key.buildID)
    }

    public init(settings: Settings, build: BuildID) {
        spool = Spool(root: settings.spool)
        self.settings = settings
        self.build = build
        directory = spool.buildDirectory(build)
    }

    /// For reading the build only (listing, `isBusy`): the settings it runs handlers with are
    /// the defaults.
    init(spool: Spool, build: BuildID) {
        var settings = Settings()
        settings.spool = spool.root
        self.init(settings: settings, build: build)
    }

    /// Which deliveries of the build to run.
    public enum Selection: Sendable, Equatable {
        /// Those with no result yet, and those whose result is in `rerunning`.
        case pending(rerunning: Set<HandlerResult.State> = [])
        /// These payload names (`EVENT.json`), whatever their result.
        case named(Set<String>)
    }

    /// One handler run: the result it replaced (nil: there was none) and the new one.
    public struct Run: Sendable {
        public let delivery: StoredDelivery
        public let previous: HandlerResult?
        public let result: HandlerResult
    }

    /// Waits for the build's lock and runs every pending handler; returns the results it wrote,
    /// by payload name.
    @discardableResult
    public func drain() throws(StorageError) -> [String: HandlerResult] {
        let runs = try drain(.pending(), wait: true) ?? []
        return Dictionary(runs.map { ($0.delivery.name, $0.result) }, uniquingKeysWith: { $1 })
    }

    /// Takes the build's lock (waiting for it, or giving up at once: nil) and runs each selected
    /// delivery once, in arrival order, replacing its result; `each` sees every run as it ends.
    @discardableResult
    public func drain(
        _ selection: Selection, wait: Bool, each: (Run) -> Void = { _ in }
    ) throws(StorageError) -> [Run]? {
        guard isTrusted() else { return [] }
        let taken: BuildLock?
        do {
            taken = try BuildLock.acquire(in: directory, wait: wait)
        } catch {
            if BuildLock.isGone(error) { return [] }
            throw error
        }
        guard let lock = taken else { return nil }
        defer { lock.release() }

        var runs: [Run] = []
        var ran: Set<String> = []
        while let next = try candidates(selection).first(where: { !ran.contains($0.name) }) {
            ran.insert(next.name)
            let previous = next.result()
            unlink(next.outputPath)  // output beside a result is always that run's own
            let result = try HandlerRun(spool: spool, settings: settings, delivery: next, buildLock: lock.descriptor).run()
            try next.record(result)
            let run = Run(delivery: next, previous: previous, result: result)
            runs.append(run)
            each(run)
        }
        return runs
    }

    /// The deliveries `selection` picks now, in arrival order, read without the lock: what
    /// `drain` would run if nobody else is running the build.
    public func candidates(_ selection: Selection) throws(StorageError) -> [StoredDelivery] {
        try deliveries().filter { delivery in
            switch selection {
            case .named(let names):
                return names.contains(delivery.name)
            case .pending(let rerunning):
                guard delivery.hasResult else { return true }
                guard !rerunning.isEmpty else { return false }
                // An unreadable result is no proof the handler succeeded: rerun it.
                return delivery.result().map { rerunning.contains($0.state) } ?? true
            }
        }
    }

    /// Every stored delivery of the build in arrival order; any missing from `.arrivals` (a
    /// crash lost the line) come last, oldest change time first. A build that does not exist
    /// has none. A payload a power cut cut short before its answer is not one
    /// (`StoredDelivery.isCutShort`).
    public func deliveries() throws(StorageError) -> [StoredDelivery] {
        guard isTrusted() else { return [] }
        var rank: [String: Int] = [:]
        for (index, line) in readArrivals().split(separator: "\n").enumerated() where rank[String(line)] == nil {
            rank[String(line)] = index
        }
        guard let entries = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw StorageError("list", directory, Errno(rawValue: errno))
        }
        defer { closedir(entries) }
        var found: [(rank: Int, ctime: timespec, delivery: StoredDelivery)] = []
        while let entry = readdir(entries) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasSuffix(".json"), !name.hasPrefix(".") else { continue }
            let delivery = StoredDelivery(directory: directory, name: name)
            var info = stat()
            guard stat(delivery.payloadPath, &info) == 0, !delivery.isCutShort(mode: info.st_mode) else { continue }
            if let why = SpoolTrust.problem(delivery.payloadPath, info) {
                SpoolTrust.warnSkipped(delivery.payloadPath, why)
                continue
            }
            found.append((rank[delivery.stem] ?? Int.max, info.st_ctim, delivery))
        }
        return found.sorted {
            ($0.rank, $0.ctime.tv_sec, $0.ctime.tv_nsec, $0.delivery.name)
                < ($1.rank, $1.ctime.tv_sec, $1.ctime.tv_nsec, $1.delivery.name)
        }.map(\.delivery)
    }

    /// Whether a handler of this build is running right now (someone holds its lock).
    public var isBusy: Bool { BuildLock.isHeld(in: directory) }

    private func readArrivals() -> String {
        let bytes = (try? FileContents.read(Spool.arrivalsPath(in: directory))) ?? []
        return String(decoding: bytes, as: UTF8.self)
    }
}
