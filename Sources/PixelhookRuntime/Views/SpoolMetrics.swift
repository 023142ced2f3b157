import PixelhookCore

/// Gathers `Metrics` from the spool; what one scrape costs does not grow with the spool:
/// - the request-log families: only the lines written since the last scrape
///   (`RequestLogCheckpoint`);
/// - the handler states: only the builds listed in `SPOOL/pending/`, `SPOOL/unfinished/` and
///   `SPOOL/gave-up/`, the builds that may hold a delivery not done; `done` is the stored
///   total less the rest.
public struct SpoolMetrics: Sendable {
    public let spool: Spool

    public init(spool: Spool) { self.spool = spool }

    public func collect(now: Int = Clock.milliseconds()) -> Metrics {
        let tally = RequestLogCheckpoint(spool: spool).advance()
        var handlers = HandlerStateCount()
        var oldest: Int?
        for build in PendingBuilds.mayHoldUndone(spool: spool) {
            let queue = BuildQueue(spool: spool, build: build)
            guard let deliveries = try? queue.deliveries() else { continue }
            if !deliveries.contains(where: { $0.result()?.state == .gaveUp }) {
                PendingBuilds.gaveUp(spool: spool).remove(build)  // replayed since, or never listed
            }
            var runningTaken = !queue.isBusy
            for delivery in deliveries {
                let result = delivery.result()
                if result?.state == .done { continue }  // counted in `done`
                // The build's lock is held: its first delivery not done is the one running.
                let running = !runningTaken
                runningTaken = true
                let state = HandlerStateCount.state(of: result, running: running)
                handlers[state] += 1
                if state != .gaveUp, let received = delivery.receivedAt() {
                    oldest = min(oldest ?? received, received)
                }
            }
        }
        return Metrics(log: tally, handlers: handlers, oldestWaitingMs: oldest, now: now)
    }
}
