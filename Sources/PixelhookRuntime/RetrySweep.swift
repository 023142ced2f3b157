#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// `pixelhook retry`: runs again every delivery whose handler failed, timed out, asked for a
/// retry (exit 75), or never finished (no result while nobody holds the build's lock: its
/// runner died), build by build, oldest first within each build.
///
/// Safe to start from cron every minute: the whole sweep holds `SPOOL/retry.lock`, so a second
/// sweep started meanwhile ends at once; each build is taken with a non-blocking lock, so a
/// build whose handlers are running is left for the next sweep. No delivery runs twice at once.
public struct RetrySweep {
    public let settings: Settings

    /// The results `retry` runs again.
    public static let rerunnable: Set<HandlerResult.State> = [.failed, .timeout, .retry]

    public init(settings: Settings) { self.settings = settings }

    public var lockPath: String { settings.spool + "/retry.lock" }

    /// What the sweep did or would do, one delivery or build at a time.
    public enum Step: Sendable {
        /// Ran it again; `run.result` is its new state.
        case ran(BuildQueue.Run)
        /// `dryRun` only: would run it; its current result (nil: never finished).
        case wouldRun(StoredDelivery, current: HandlerResult?)
        /// Its handlers are running now: left for the next sweep (only said when it holds
        /// something to retry).
        case busy(BuildID)
    }

    public enum Outcome: Sendable, Equatable {
        case finished(ran: Int)
        /// Another sweep holds `retry.lock`.
        case anotherSweepRunning
    }

    public func run(dryRun: Bool = false, report: (Step) -> Void) throws(StorageError) -> Outcome {
        let spool = Spool(root: settings.spool)
        guard Syscalls.exists(spool.deliveries) else { return .finished(ran: 0) }
        try spool.verifyTrusted()  // before retry.lock is opened in it
        let lock: FileDescriptor? = dryRun ? nil : try attempt("open", lockPath) {
            try FileDescriptor.open(lockPath, .readWrite, options: [.create, .closeOnExec], permissions: [.ownerReadWrite])
        }
        defer { try? lock?.close() }
        if let lock, !(try attempt("lock", lockPath) { try Syscalls.lock(lock, wait: false) }) {
            return .anotherSweepRunning
        }

        let selection = BuildQueue.Selection.pending(rerunning: RetrySweep.rerunnable)
        var ran = 0
        for build in try spool.buildIDs() {
            let queue = BuildQueue(settings: settings, build: build)
            if dryRun {
                if queue.isBusy {
                    if try queue.candidates(selection).contains(where: \.hasResult) { report(.busy(build)) }
                    continue
                }
                for delivery in try queue.candidates(selection) { report(.wouldRun(delivery, current: delivery.result())) }
                continue
            }
            let runs = try queue.drain(selection, wait: false) { report(.ran($0)) }
            if let runs {
                ran += runs.count
            } else if try queue.candidates(selection).contains(where: \.hasResult) {
                report(.busy(build))
            }
        }
        return .finished(ran: ran)
    }
}
