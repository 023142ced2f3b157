#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// The handlers of one build (projectId + uploadId), run one at a time in arrival order.
///
/// Whoever holds the build's `.lock` runs the build's deliveries that a `Selection` picks, in
/// arrival order (the build's `.arrivals` list, see `Spool.store`); events arriving meanwhile
/// join the queue. No daemon is involved: the process that
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
        directory = spool.layout.buildDirectory(build)
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
        /// Those with no result yet, and those whose result is in `rerunning`; with `dueBy`
        /// (now, in milliseconds since the epoch), only once their back-off has passed
        /// (`RetryBackoff`).
        case pending(rerunning: Set<HandlerResult.State> = [], dueBy: Int? = nil)
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
    ///
    /// The build is listed in `SPOOL/unfinished/` before its first handler runs, and taken off
    /// only when every delivery in `.arrivals` is done or given up (`BuildCursor` at its end), still under
    /// the lock: a runner killed at any point leaves the build listed for `retry`.
    @discardableResult
    public func drain(
        _ selection: Selection, wait: Bool, each: (Run) -> Void = { _ in }
    ) throws(StorageError) -> [Run]? {
        guard isTrusted() else { return [] }
        let taken: BuildLock?
        do {
            taken = try BuildLock.acquire(in: directory, wait: wait)
        } catch {
            guard BuildLock.isGone(error) else { throw error }
            unlink(PendingBuilds.unfinished(spool: spool).path(build))  // `gc` removed the build
            return []
        }
        guard let lock = taken, let descriptor = lock.descriptor else { return nil }
        defer { lock.release() }
        let cursor = BuildCursor(lockDescriptor: descriptor, arrivalsPath: SpoolLayout.arrivalsPath(in: directory))
        var listedUnfinished = false

        var runs: [Run] = []
        func run(_ delivery: StoredDelivery) throws(StorageError) -> HandlerResult {
            if !listedUnfinished { listedUnfinished = PendingBuilds.unfinished(spool: spool).mark(build) }
            let previous = delivery.result()
            // A marker left by a runner that died mid-run: that run was an attempt too.
            let unrecorded = RunningMarker.read(delivery.runningPath)?.attempt ?? 0
            let attempt = max(previous?.attempts ?? 0, unrecorded) + 1
            unlink(delivery.outputPath)  // output beside a result is always that run's own
            let result = try HandlerRun(spool: spool, settings: settings, delivery: delivery, buildLock: descriptor,
                                        attemptNumber: attempt).run()
                .counted(asAttempt: attempt, limit: settings.retryLimit)
            try delivery.record(result)
            if result.state == .gaveUp { PendingBuilds.gaveUp(spool: spool).mark(build) }
            // `replay` made a settled delivery, which the cursor may have passed, unsettled:
            // read the build from its start again, so that it stays listed for `retry`.
            if previous?.state.isSettled == true, !result.state.isSettled { cursor.write(0) }
            let run = Run(delivery: delivery, previous: previous, result: result)
            runs.append(run)
            each(run)
            return result
        }

        if selection == .pending() {
            try runUnfinished(from: cursor, run: run)
        } else {
            try runScanned(selection, run: run)
        }
        if advance(cursor) { unlink(PendingBuilds.unfinished(spool: spool).path(build)) }
        return runs
    }

    /// A runner's drain: the deliveries with no result, found by reading `.arrivals` from the
    /// cursor on (each line once, so each run costs the same whatever the build's size), until
    /// a read finds no new line. The cursor moves past each line whose delivery is done, up to
    /// the first that is not: one not done, or a line whose payload is not there (still being
    /// stored, or never will be) or was cut short.
    private func runUnfinished(
        from cursor: BuildCursor, run: (StoredDelivery) throws(StorageError) -> HandlerResult
    ) throws(StorageError) {
        let arrivals = ArrivalsReader(path: SpoolLayout.arrivalsPath(in: directory))
        let start = cursor.read()
        var finishedUpTo = start
        var read = start
        var blocked = false
        var seen: Set<String> = []
        while true {
            let lines = arrivals.lines(from: read)
            guard !lines.isEmpty else { break }
            for (stem, end) in lines {
                read = end
                defer { if !blocked, finishedUpTo != end { finishedUpTo = end; cursor.write(end) } }
                guard seen.insert(stem).inserted else { continue }  // a duplicate raced its original
                let delivery = StoredDelivery(directory: directory, event: stem)
                var info = stat()
                guard stat(delivery.payloadPath, &info) == 0, !delivery.isCutShort(mode: info.st_mode) else {
                    blocked = true
                    continue
                }
                if delivery.hasResult {
                    if !blocked, delivery.result()?.state.isSettled != true { blocked = true }
                    continue
                }
                if try !run(delivery).state.isSettled { blocked = true }
            }
        }
    }

    /// `retry` and `replay`: the deliveries `selection` picks from a full listing, run in
    /// arrival order; listed again after the last, until nothing new is picked. A delivery
    /// missing from `.arrivals` (a power cut lost its line) is added to it, so that the
    /// cursor, which only reads `.arrivals`, never passes over it.
    private func runScanned(
        _ selection: Selection, run: (StoredDelivery) throws(StorageError) -> HandlerResult
    ) throws(StorageError) {
        var ran: Set<String> = []
        while true {
            let (picked, unlisted) = try scan(selection)
            for delivery in unlisted { relist(delivery) }
            let next = picked.filter { !ran.contains($0.name) }
            guard !next.isEmpty else { return }
            for delivery in next {
                ran.insert(delivery.name)
                _ = try run(delivery)
            }
        }
    }

    /// Appends a delivery a power cut left out of `.arrivals`, as `Spool.noteArrival` would
    /// have (one `write(2)` to an `O_APPEND` file: lines never interleave). Best effort: a
    /// delivery still unlisted is found by the next full listing.
    private func relist(_ delivery: StoredDelivery) {
        let fd = open(SpoolLayout.arrivalsPath(in: directory), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let line = Array((delivery.stem + "\n").utf8)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Moves the cursor past every settled delivery after it (done, or given up); true when it
    /// reached the end of `.arrivals`: nothing of the build is left for `retry`.
    private func advance(_ cursor: BuildCursor) -> Bool {
        var position = cursor.read()
        let start = position
        var seen: Set<String> = []
        for (stem, end) in ArrivalsReader(path: SpoolLayout.arrivalsPath(in: directory)).lines(from: position) {
            if seen.insert(stem).inserted {
                let delivery = StoredDelivery(directory: directory, event: stem)
                guard delivery.result()?.state.isSettled == true else { break }
            }
            position = end
        }
        if position != start { cursor.write(position) }
        return position == arrivalsSize()
    }

    private func arrivalsSize() -> Int {
        var info = stat()
        return stat(SpoolLayout.arrivalsPath(in: directory), &info) == 0 ? Int(info.st_size) : 0
    }

    /// The deliveries `selection` picks now, in arrival order, read without the lock: what
    /// `drain` would run if nobody else is running the build.
    public func candidates(_ selection: Selection) throws(StorageError) -> [StoredDelivery] {
        try scan(selection).picked
    }

    private func scan(_ selection: Selection) throws(StorageError) -> (picked: [StoredDelivery], unlisted: [StoredDelivery]) {
        let listing = try listing()
        let picked = listing.deliveries.filter { delivery in
            switch selection {
            case .named(let names):
                return names.contains(delivery.name)
            case .pending(let rerunning, let now):
                guard delivery.hasResult else { return true }
                guard !rerunning.isEmpty else { return false }
                // An unreadable result is no proof the handler succeeded: rerun it.
                guard let result = delivery.result() else { return true }
                return rerunning.contains(result.state) && (now.map { RetryBackoff.isDue(result, now: $0) } ?? true)
            }
        }
        return (picked, listing.unlisted)
    }

    /// Every stored delivery of the build in arrival order; any missing from `.arrivals` (a
    /// crash lost the line) come last, oldest change time first. A build that does not exist
    /// has none. A payload a power cut cut short before its answer is not one
    /// (`StoredDelivery.isCutShort`).
    public func deliveries() throws(StorageError) -> [StoredDelivery] {
        try listing().deliveries
    }

    /// `deliveries()`, and those of them missing from `.arrivals`.
    private func listing() throws(StorageError) -> (deliveries: [StoredDelivery], unlisted: [StoredDelivery]) {
        guard isTrusted() else { return ([], []) }
        var rank: [String: Int] = [:]
        for (index, line) in readArrivals().split(separator: "\n").enumerated() where rank[String(line)] == nil {
            rank[String(line)] = index
        }
        guard let entries = opendir(directory) else {
            if errno == ENOENT { return ([], []) }
            throw StorageError("list", directory, Errno(rawValue: errno))
        }
        defer { closedir(entries) }
        var found: [(rank: Int, ctime: timespec, delivery: StoredDelivery)] = []
        while let entry = readdir(entries) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard SpoolLayout.event(ofPayload: name) != nil else { continue }
            let delivery = StoredDelivery(directory: directory, name: name)
            var info = stat()
            guard stat(delivery.payloadPath, &info) == 0, !delivery.isCutShort(mode: info.st_mode) else { continue }
            if let why = SpoolTrust.problem(delivery.payloadPath, info) {
                SpoolTrust.warnSkipped(delivery.payloadPath, why)
                continue
            }
            found.append((rank[delivery.stem] ?? Int.max, info.st_ctim, delivery))
        }
        let sorted = found.sorted {
            ($0.rank, $0.ctime.tv_sec, $0.ctime.tv_nsec, $0.delivery.name)
                < ($1.rank, $1.ctime.tv_sec, $1.ctime.tv_nsec, $1.delivery.name)
        }
        return (sorted.map(\.delivery), sorted.filter { $0.rank == Int.max }.map(\.delivery))
    }

    /// Whether a handler of this build is running right now (someone holds its lock).
    public var isBusy: Bool { BuildLock.isHeld(in: directory) }

    private func readArrivals() -> String {
        let bytes = (try? FileContents.read(SpoolLayout.arrivalsPath(in: directory))) ?? []
        return String(decoding: bytes, as: UTF8.self)
    }
}
