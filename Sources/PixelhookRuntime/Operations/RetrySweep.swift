#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// `pixelhook retry`: runs again every delivery whose handler failed, timed out, asked for a
/// retry (exit 75), or never finished (no result while nobody holds the build's lock: its
/// runner died), build by build, oldest first within each build.
///
/// It reads only the builds listed in `SPOOL/unfinished/` and `SPOOL/pending/`, so a sweep
/// costs what it has to retry, not the spool's size. Those lists are kept as processes run
/// (see `PendingBuilds`) and are complete after any process crash; a power cut can take back
/// their unsynced entries, so after each boot (and on a spool whose lists were never checked,
/// such as one an older pixelhook wrote) the first sweep reads every build instead, relists
/// what it finds, and records the boot in `SPOOL/unfinished/.complete`.
///
/// Safe to start from cron every minute: the whole sweep holds `SPOOL/retry.lock`, so a second
/// sweep started meanwhile ends at once; each build is taken with a non-blocking lock, so a
/// build whose handlers are running is left for the next sweep. No delivery runs twice at once.
///
/// A failed delivery runs again only after its back-off (`RetryBackoff`), and is given up
/// (`gave up`) at its `PIXELHOOK_RETRY_LIMIT`th attempt. A build held by the group of a handler
/// whose runner died is freed once `PIXELHOOK_HANDLER_TIMEOUT` has passed since the handler
/// started (`OrphanedHandler`).
public struct RetrySweep {
    public let settings: Settings

    /// The results `retry` runs again.
    public static let rerunnable: Set<HandlerResult.State> = [.failed, .timeout, .retry]

    public init(settings: Settings) { self.settings = settings }

    public var lockPath: String { SpoolLayout(root: settings.spool).retryLock }

    /// What the sweep did or would do, one delivery or build at a time.
    public enum Step: Sendable {
        /// Ran it again; `run.result` is its new state.
        case ran(BuildQueue.Run)
        /// `dryRun` only: would run it; its current result (nil: never finished).
        case wouldRun(StoredDelivery, current: HandlerResult?)
        /// Its handlers are running now: left for the next sweep (only said when it holds
        /// something to retry).
        case busy(BuildID)
        /// `dryRun` only: failed, but its back-off has `dueInSeconds` to go.
        case notDue(StoredDelivery, current: HandlerResult, dueInSeconds: Int)
        /// `dryRun` only: given up; `retry` runs it no more.
        case gaveUp(StoredDelivery, current: HandlerResult)
        /// The group of a handler whose runner died, stopped (`dryRun`: would be) after the
        /// timeout; the delivery then runs again.
        case stoppedOrphan(StoredDelivery, runningSeconds: Int, dryRun: Bool)
    }

    public enum Outcome: Sendable, Equatable {
        case finished(ran: Int)
        /// Another sweep holds `retry.lock`.
        case anotherSweepRunning
    }

    public func run(dryRun: Bool = false, report: (Step) -> Void) throws(StorageError) -> Outcome {
        let spool = Spool(root: settings.spool)
        guard Syscalls.exists(spool.layout.deliveries) else { return .finished(ran: 0) }
        try spool.verifyTrusted()  // before retry.lock is opened in it
        let lock: FileDescriptor? = dryRun ? nil : try attempt("open", lockPath) {
            try FileDescriptor.open(lockPath, .readWrite, options: [.create, .closeOnExec], permissions: [.ownerReadWrite])
        }
        defer { try? lock?.close() }
        if let lock, !(try attempt("lock", lockPath) { try Syscalls.lock(lock, wait: false) }) {
            return .anotherSweepRunning
        }

        let now = Clock.milliseconds()
        let selection = BuildQueue.Selection.pending(rerunning: RetrySweep.rerunnable, dueBy: now)
        let unfinished = PendingBuilds.unfinished(spool: spool)
        let bootID = RetrySweep.bootID()
        let listsComplete = bootID != nil && RetrySweep.completeMark(in: unfinished) == bootID
        let listed = unfinished.listed() + PendingBuilds(spool: spool).listed()
        let builds = Set(listsComplete ? listed : try spool.buildIDs() + listed).sorted()
        var ran = 0
        var skippedAny = false
        for build in builds {
            let queue = BuildQueue(settings: settings, build: build)
            if dryRun {
                if queue.isBusy {
                    let orphans = overdueOrphans(of: queue, now: now)
                    for orphan in orphans {
                        report(.stoppedOrphan(orphan.delivery, runningSeconds: (now - orphan.marker.startedAt) / 1000, dryRun: true))
                    }
                    if orphans.isEmpty, try queue.candidates(selection).contains(where: \.hasResult) { report(.busy(build)) }
                    continue
                }
                try reportPlan(of: queue, now: now, report: report)
                continue
            }
            var runs = try queue.drain(selection, wait: false) { report(.ran($0)) }
            if runs == nil {
                let orphans = overdueOrphans(of: queue, now: now)
                for orphan in orphans {
                    let stopped = orphan.stop(lockPath: BuildLock.path(in: queue.directory))
                    if stopped {
                        report(.stoppedOrphan(orphan.delivery, runningSeconds: (now - orphan.marker.startedAt) / 1000, dryRun: false))
                    }
                }
                if !orphans.isEmpty { runs = try queue.drain(selection, wait: false) { report(.ran($0)) } }
            }
            if let runs {
                ran += runs.count
            } else {
                skippedAny = true
                if try queue.candidates(selection).contains(where: \.hasResult) { report(.busy(build)) }
            }
        }
        if !listsComplete, !dryRun, !skippedAny, let bootID {
            // Every build was drained and left listed if not done: complete now. A build that
            // was busy (its runner or `gc` held it) is read by the next sweep, again in full.
            _ = try? Syscalls.makeDirectory(unfinished.directory)
            RetrySweep.writeCompleteMark(bootID, in: unfinished)
        }
        return .finished(ran: ran)
    }

    /// The groups of handlers whose runner died that hold `queue`'s build past the timeout.
    private func overdueOrphans(of queue: BuildQueue, now: Int) -> [OrphanedHandler] {
        OrphanedHandler.find(in: queue.directory).filter {
            $0.isOverdue(timeoutSeconds: settings.handlerTimeoutSeconds, now: now)
        }
    }

    /// `--dry-run` on a free build: what would run now, what waits for its back-off, what
    /// was given up.
    private func reportPlan(of queue: BuildQueue, now: Int, report: (Step) -> Void) throws(StorageError) {
        let listed = BuildQueue.Selection.pending(rerunning: RetrySweep.rerunnable.union([.gaveUp]))
        for delivery in try queue.candidates(listed) {
            guard let current = delivery.result() else {
                report(.wouldRun(delivery, current: nil))
                continue
            }
            if current.state == .gaveUp {
                report(.gaveUp(delivery, current: current))
            } else if let due = RetryBackoff.dueAt(current), due > now {
                report(.notDue(delivery, current: current, dueInSeconds: (due - now + 999) / 1000))
            } else {
                report(.wouldRun(delivery, current: current))
            }
        }
    }

    /// This boot's id (the kernel's, new at every boot); nil where there is none.
    static func bootID() -> String? {
        guard let bytes = try? FileContents.read("/proc/sys/kernel/random/boot_id", limit: 64) else { return nil }
        let text = RetrySweep.visible(bytes)
        return text.isEmpty ? nil : text
    }

    static func completeMark(in list: PendingBuilds) -> String? {
        (try? FileContents.read(list.directory + "/" + SpoolLayout.completeName, limit: 64)).map(visible)
    }

    /// The text without its newline (or any other blank).
    private static func visible(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.filter { $0 > UInt8(ascii: " ") }, as: UTF8.self)
    }

    static func writeCompleteMark(_ bootID: String, in list: PendingBuilds) {
        let path = list.directory + "/" + SpoolLayout.completeName
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let line = Array((bootID + "\n").utf8)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Makes the next sweep read every build: for a build that could not be listed.
    public static func forgetListsComplete(spool: Spool) {
        unlink(spool.layout.unfinished + "/" + SpoolLayout.completeName)
    }
}
