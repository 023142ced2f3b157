#if canImport(Glibc)
import Glibc
#endif
import CPosix
import PixelhookCore

/// Runs handlers after the response, in `pixelhook run-queue` processes of their own (new
/// session, stdio on /dev/null), so the request's process can exit, or go on serving, at once:
/// the web server sees the response end whatever the handler does.
///
/// Runners are a pool without a daemon: at most `PIXELHOOK_MAX_HANDLERS` of them, each holding
/// a runner slot, each claiming builds from `SPOOL/pending/` and draining them until the list
/// is empty, then exiting. A gateway starts a runner only when a runner slot is free, so a
/// burst of deliveries costs a few runner processes, not one per delivery.
///
/// Why nothing is missed: the receiver lists the build *before* probing the slots, and a
/// runner looks at the list again *after* giving its slot back. If the receiver found every
/// slot held, some runner released its slot after that probe and so sees the entry.
public enum DetachedQueueRunner {
    /// The hidden subcommand the runner is started as; `pixelhook` must provide it.
    public static let subcommand = "run-queue"

    /// Called by a gateway once the response is out: takes a free runner slot and starts a
    /// runner that holds it from then on, so a burst of requests cannot start a crowd of runners
    /// that each find every slot taken. Returns the `posix_spawn` error (0: started or not needed).
    @discardableResult
    public static func wake(_ followUp: Receiver.FollowUp, executable: String = "/proc/self/exe") -> Int32 {
        let spool = Spool(root: followUp.settings.spool)
        let runners = HandlerSlots.runners(spool: spool, count: followUp.settings.maxHandlers)
        let taken: HandlerSlots.Slot?
        do {
            taken = try runners.tryAcquire()
        } catch {
            // Slots unreadable (a spool from an older pixelhook): the runner prepares the spool.
            return start(settings: followUp.settings, executable: executable)
        }
        guard let slot = taken else {
            return 0  // every runner slot is held: those runners will find the build listed
        }
        let error = start(settings: followUp.settings, slot: (slot.index, slot.descriptor), executable: executable)
        slot.release()  // the runner's copy of the descriptor keeps the lock
        return error
    }

    /// Says that no runner could be started for `followUp` (`wake`'s error): the delivery is
    /// stored and `pixelhook retry` runs it, but until then nothing does.
    public static func alarmNotStarted(_ followUp: Receiver.FollowUp, error: Int32) {
        AlarmLog.raise("pixelhook: cannot start a runner for \(followUp.key.id): \(String(cString: strerror(error))); stored, `pixelhook retry` runs it",
                       spoolRoot: followUp.settings.spool)
    }

    /// The option `run-queue` takes the slot's index with; the slot itself is fd 3.
    public static let slotOption = "--slot"
    public static let inheritedSlotDescriptor: Int32 = 3

    /// Starts one runner process with the settings as its environment, handing it `slot`, or
    /// the read end of a resident runner's pipe (`wake`, see `ResidentRunner`).
    public static func start(settings: Settings, slot: (index: Int, descriptor: Int32)? = nil, wake: Int32 = -1,
                             executable: String = "/proc/self/exe") -> Int32 {
        let argv = ["pixelhook", subcommand] + (slot.map { [slotOption, String($0.index)] } ?? [])
            + (wake >= 0 ? [ResidentRunner.option] : [])
        let environment = ExecEnvironment.carrying(settings)
        var pid: pid_t = 0
        return withCStrings(argv) { argv in
            withCStrings(environment) { envp in
                pixelhook_spawn_detached(&pid, executable, argv, envp, slot?.descriptor ?? -1, wake)
            }
        }
    }

    /// The runner's life: take a runner slot, drain every listed build, give the slot back,
    /// and stop once the list is empty after that. Returns how many handlers it ran.
    @discardableResult
    public static func runPending(settings: Settings, inherited: consuming HandlerSlots.Slot? = nil) throws(StorageError) -> Int {
        let spool = Spool(root: settings.spool)
        try spool.prepare()
        try spool.verifyTrusted()
        let pending = PendingBuilds(spool: spool)
        let unfinished = PendingBuilds.unfinished(spool: spool)
        let runners = HandlerSlots.runners(spool: spool, count: settings.maxHandlers)
        var ran = 0
        // Rounds that claimed nothing: an entry no runner can remove must not keep one spinning.
        var idleRounds = 0
        var handedDown = inherited.take()
        repeat {
            let slot: HandlerSlots.Slot
            if let passed = handedDown.take() {
                slot = passed
            } else if let free = try runners.tryAcquire() {
                slot = free
            } else {
                break
            }
            var claimed = true
            while claimed {
                claimed = false
                for build in pending.listed(rotatedBy: slot.index * 7919) {
                    // Listed for `retry` before the claim takes it off `pending/` (see
                    // `PendingBuilds`); if it cannot be, the next retry reads every build.
                    if !unfinished.mark(build) { RetrySweep.forgetListsComplete(spool: spool) }
                    guard pending.claim(build) else { continue }
                    claimed = true
                    // A build that cannot be run now (its directory unreadable) stays for `retry`.
                    ran += (try? BuildQueue(settings: settings, build: build).drain().count) ?? 0
                }
                if claimed { idleRounds = 0 }
            }
            slot.release()
            idleRounds += 1
        } while idleRounds < 3 && !pending.isEmpty
        return ran
    }

    /// Parses the `PROJECT/BUILD/EVENT` id of a delivery; nil if it could escape the spool
    /// (only segments `DeliveryKey` produces are accepted).
    public static func key(fromID id: String) -> DeliveryKey? {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") && !$0.contains("\0") }) else { return nil }
        return DeliveryKey(project: parts[0], build: parts[1], event: parts[2])
    }
}
