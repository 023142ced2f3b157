#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import PixelhookRuntime

/// Cluster mode's runner, started where a one-host runner would be (`pixelhook run-queue`
/// execs it): hands this host's new deliveries over to PostgreSQL (`ClusterIntake`), then runs
/// builds of the whole cluster, one lease at a time, whichever host stored them, until none is
/// left to run here.
///
/// It stays while some build still waits (held for an earlier stage, or leased by a host that
/// may have died) for up to a lease plus a hold, so that a dead host's builds are taken over
/// without waiting for the next delivery or `retry`.
struct ClusterRunner {
    let settings: Settings
    let conninfo: String
    let host: String
    /// Says each run as it ends (`retry` prints them).
    var each: (DeliveryKey, HandlerResult) -> Void = { _, _ in }

    init(settings: Settings, conninfo: String) {
        self.settings = settings
        self.conninfo = conninfo
        host = ClusterHost.identity(spool: settings.spool)
    }

    var alarms: AlarmLog { AlarmLog(spool: Spool(root: settings.spool)) }

    /// One connection's work: hand over, then run until nothing is left; returns the runs.
    @discardableResult
    func work(_ connection: PostgresConnection) throws(PostgresError) -> Int {
        let store = ClusterStore(connection: connection, host: host)
        let timing = try store.timing()
        let intake = ClusterIntake(settings: settings)
        let lingerSeconds = Double(timing.leaseSeconds + timing.holdSeconds + 1)
        var lastProgress = monotonicSeconds()
        var ran = 0
        var sweep = true
        while true {
            // `unfinished/` once (what an unreachable cluster left), then what is new in `pending/`.
            try intake.handOver(sweepingUnfinished: sweep) { (local) throws(PostgresError) in try store.push(local) }
            sweep = false
            if let lease = try store.claim(leaseSeconds: timing.leaseSeconds) {
                ran += try run(lease, store: store, timing: timing)
                lastProgress = monotonicSeconds()
                continue
            }
            guard try store.hasWaitingWork(), monotonicSeconds() - lastProgress < lingerSeconds else { return ran }
            usleep(200_000)
        }
    }

    /// Runs the leased build's deliveries in `PipelineOrder` until one is not done, one must
    /// wait for an earlier stage, or the lease is lost.
    private func run(_ lease: ClusterStore.Lease, store: ClusterStore, timing: ClusterStore.Timing) throws(PostgresError) -> Int {
        var ran = 0
        while true {
            guard let next = try store.next(of: lease.build), next.state == nil else {
                try store.release(lease)
                return ran
            }
            if PipelineOrder.mayMissEarlierStage(rank: next.rank, present: next.presentRanks, accepted: settings.events) {
                let readyAt = next.pushedAt + timing.holdSeconds * 1000
                if next.now < readyAt {
                    try store.release(lease, readyAt: readyAt)
                    return ran
                }
            }
            let key = DeliveryKey(project: lease.build.project, build: lease.build.build, event: next.event)
            // Lease lost before the start: another host has the build now.
            guard let started = try store.start(key, under: lease) else { return ran }
            let keeper = LeaseKeeper(conninfo: conninfo, host: host, lease: lease, leaseSeconds: timing.leaseSeconds)
            keeper.start()
            let result: HandlerResult
            do {
                result = try ClusterRun(settings: settings).run(key, body: started.body, attempt: started.attempt)
            } catch {
                result = HandlerResult(state: .failed, handler: nil, exitCode: nil, signal: nil, startedAt: Clock.iso8601(),
                                       durationMs: 0, outputBytes: 0, outputTruncated: false, detail: error.description)
                    .counted(asAttempt: started.attempt, limit: settings.retryLimit)
            }
            _ = keeper.stop()
            guard try store.finish(key, under: lease, result: result) else {
                alarms.append("cluster: lease of \(lease.build) lost while \(key.id) ran here (\(result.summary)); "
                    + "another host took the build over and its run counts, not this one")
                return ran
            }
            ran += 1
            each(key, result)
        }
    }

    /// `retry`: the cluster's deliveries that failed, timed out or exited 75 and whose back-off
    /// has passed wait to run again (those past `PIXELHOOK_RETRY_LIMIT` were given up when
    /// they ran); returns what it would, or did, make wait.
    func rearmDue(_ connection: PostgresConnection, dryRun: Bool) throws(PostgresError) -> [(DeliveryKey, HandlerResult)] {
        let store = ClusterStore(connection: connection, host: host)
        let now = Clock.milliseconds()
        let due = try store.unsettledResults().filter { RetryBackoff.isDue($0.result, now: now) }
        if !dryRun { for (key, result) in due { try store.rearm(key, from: result.state) } }
        return due.map { ($0.key, $0.result) }
    }

    private func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// How a host is named in the cluster: `HOSTNAME:SPOOL`, so that two spools on one machine are
/// two hosts, and an operator reading `show` knows where to look.
enum ClusterHost {
    static func identity(spool: String) -> String {
        var name = [CChar](repeating: 0, count: 256)
        let hostname = gethostname(&name, name.count - 1) == 0
            ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        return "\(hostname):\(spool)"
    }
}
