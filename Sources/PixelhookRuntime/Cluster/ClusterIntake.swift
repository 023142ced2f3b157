#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// Cluster mode's hand-over of the local spool: every delivery stored here with no result yet
/// is given, payload included, to the cluster (`push`), in the build's arrival order; then it
/// gets a local result saying where it went, so that nothing local runs it. The cluster decides
/// whether it is the first copy of that event or a duplicate another host stored first.
///
/// Reads the builds listed in `SPOOL/pending/` and `SPOOL/unfinished/` (`PendingBuilds`): a
/// build stays listed in `unfinished/` until every one of its deliveries is handed over, so a
/// push that failed (PostgreSQL unreachable) is tried again by the next runner or `retry`.
public struct ClusterIntake {
    public let settings: Settings
    public let spool: Spool

    public init(settings: Settings) {
        self.settings = settings
        spool = Spool(root: settings.spool)
    }

    /// What the cluster said about one pushed delivery.
    public enum Pushed: Sendable, Equatable {
        /// This host's copy is the cluster's (new, or pushed before by this host).
        case accepted
        /// Another host stored the same event first: this copy runs nothing.
        case duplicate(storedBy: String)
    }

    /// One local delivery to push: its id, its event and the payload's bytes.
    public struct Local: Sendable {
        public let key: DeliveryKey
        public let body: [UInt8]
        /// When this host stored it (the payload's mtime), milliseconds since the epoch.
        public let storedAt: Int
    }

    /// Pushes the deliveries without a result of the builds this call claims from `pending/`,
    /// and with `sweepingUnfinished` of every build in `unfinished/` too (what an earlier push
    /// left: a runner's first pass, `retry`); returns how many it pushed. Stops at the first
    /// error `push` throws (the cluster is unreachable): what is left stays listed.
    @discardableResult
    public func handOver<Failure: Error>(
        sweepingUnfinished: Bool = true, _ push: (Local) throws(Failure) -> Pushed
    ) throws(Failure) -> Int {
        let pending = PendingBuilds(spool: spool)
        let unfinished = PendingBuilds.unfinished(spool: spool)
        var pushed = 0
        var done: Set<BuildID> = []
        for build in pending.listed() {
            // Listed in `unfinished/` before the claim takes it off `pending/`, as the local runner does.
            if !unfinished.mark(build) { RetrySweep.forgetListsComplete(spool: spool) }
            // Another runner claimed it: that one pushes it (several pushing one build is only waste).
            guard pending.claim(build) else { continue }
            done.insert(build)
            pushed += try handOver(build, push)
        }
        guard sweepingUnfinished else { return pushed }
        for build in unfinished.listed() where !done.contains(build) { pushed += try handOver(build, push) }
        return pushed
    }

    private func handOver<Failure: Error>(_ build: BuildID, _ push: (Local) throws(Failure) -> Pushed) throws(Failure) -> Int {
        // A build that cannot be listed now (unreadable) stays listed for `retry`.
        guard let deliveries = try? BuildQueue(settings: settings, build: build).deliveries() else { return 0 }
        var pushed = 0
        for delivery in deliveries where !delivery.hasResult {
            guard let body = try? FileContents.read(delivery.payloadPath) else { return pushed }
            let key = DeliveryKey(project: build.project, build: build.build, event: delivery.stem)
            let outcome = try push(Local(key: key, body: body, storedAt: delivery.receivedAt() ?? Clock.milliseconds()))
            let detail = switch outcome {
            case .accepted: ClusterIntake.acceptedDetail
            case .duplicate(let host): "\(ClusterIntake.duplicatePrefix)\(host)"
            }
            let result = HandlerResult(state: .done, handler: nil, exitCode: nil, signal: nil, startedAt: Clock.iso8601(),
                                       durationMs: 0, outputBytes: 0, outputTruncated: false, detail: detail)
            // Unrecorded, the next pass pushes it again, which the cluster answers the same way.
            guard (try? delivery.record(result)) != nil else { return pushed }
            pushed += 1
        }
        // Every delivery is handed over: nothing of the build is left for a local `retry`.
        if deliveries.allSatisfy(\.hasResult) { unlink(PendingBuilds.unfinished(spool: spool).path(build)) }
        return pushed
    }

    /// The local result's detail of a delivery handed to the cluster.
    public static let acceptedDetail = "handed over to the cluster: pixelhook cluster show has its run"
    /// The start of the local result's detail of a cluster duplicate; the host follows.
    public static let duplicatePrefix = "cluster duplicate: stored first by "
}
