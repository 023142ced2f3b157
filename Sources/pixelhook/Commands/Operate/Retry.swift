#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// `pixelhook retry`: runs again what failed, timed out, asked for a retry or never finished
/// (SPEC "Commands"). Meant for cron.
struct Retry: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run again the handlers that failed, timed out, exited 75, or never finished.",
        discussion: """
            A delivery is run again when its handler failed (any exit but 0 and 75, a signal, \
            a handler file that cannot be run), was stopped after PIXELHOOK_HANDLER_TIMEOUT, \
            exited 75 (EX_TEMPFAIL), or never finished: no result while nobody is running \
            the build's handlers (its runner crashed, was killed, or the host rebooted). \
            Within a build they run one at a time, in arrival order, under the build's lock; \
            a build whose handlers are running now is left for the next retry.

            Back-off: a delivery runs again 1 min after its first attempt ended, then 2, 4, \
            8, 16, 32 min after the next ones, then every hour. After PIXELHOOK_RETRY_LIMIT \
            attempts in all, the first run counted (default 10, 0 = never give up), its state \
            becomes "gave up" and retry runs it no more; `pixelhook replay` still does. A \
            handler whose runner was killed while its process group lives on keeps its build \
            locked: once PIXELHOOK_HANDLER_TIMEOUT has passed since it started, retry stops \
            that group (TERM, then KILL) and runs the delivery again. --dry-run says when \
            each waiting delivery is due and which were given up.

            Safe from cron every minute (* * * * * pixelhook retry): two retries never run \
            at once; the second says "another retry is running" and exits 0. Prints one line \
            per delivery run, `PROJECT/BUILD/EVENT: NEW STATE (was OLD STATE)`; when there is \
            nothing to retry it prints nothing (so cron mails only when something ran), or \
            "nothing to retry" on a terminal.

            Cluster mode (PIXELHOOK_CLUSTER set): hands this host's waiting deliveries over \
            to the cluster, makes the cluster's failed, timed-out and exit-75 deliveries whose \
            back-off has passed wait again (whichever host ran them), and runs what waits in \
            the cluster under its leases; another host's runner may take some. Prints `will \
            run PROJECT/BUILD/EVENT again (now STATE)`, then a line per delivery run here. \
            Keep it in cron on every host: a host's deliveries not handed over are only \
            handed over from that host.

            Exit status: 0, whatever the handlers did; 69 in cluster mode when PostgreSQL \
            cannot be reached (its deliveries stay in the spool); 74 if there is no spool or it cannot be read or \
            written; 77 if root cannot become the spool's owner; 78 if the settings are invalid; \
            64 for bad arguments.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @Flag(help: "List what would run, run nothing.")
    var dryRun = false

    func run() throws {
        HandlerProcess.adoptOrphans()  // it runs handlers (see `HandlerProcess.adoptOrphans`)
        let settings = try settings.loadExistingSpool()
        if settings.cluster != nil {  // docs/cluster.md: pushes what waits, then runs the cluster's retries
            throw CommandFailure(.storage, ClusterHelper.exec(["retry"] + (dryRun ? ["--dry-run"] : []), settings: settings))
        }
        let sweep = RetrySweep(settings: settings)
        var lines = 0
        let outcome: RetrySweep.Outcome
        do {
            outcome = try sweep.run(dryRun: dryRun) { step in
                StandardOutput.write(Retry.line(step) + "\n", to: 1)
                lines += 1
            }
        } catch {
            throw CommandFailure(error)
        }
        switch outcome {
        case .anotherSweepRunning:
            StandardOutput.write("another retry is running (\(sweep.lockPath) is locked); nothing done\n", to: 1)
        case .finished:
            // Silence under cron; a person at a terminal gets an answer.
            if lines == 0, isatty(1) == 1 { StandardOutput.write("nothing to retry\n", to: 1) }
        }
    }

    static func line(_ step: RetrySweep.Step) -> String {
        switch step {
        case .ran(let run):
            return run.line
        case .wouldRun(let delivery, let current):
            return "would run \(delivery.id) (now \(current?.summary ?? "never finished"))"
        case .busy(let build):
            return "skipped \(build): its handlers are running now; the next retry will see it"
        case .notDue(let delivery, let current, let dueIn):
            return "waiting \(delivery.id) (now \(current.summary)): next attempt in \(DurationText.describe(seconds: dueIn))"
        case .gaveUp(let delivery, let current):
            return "not running \(delivery.id) (now \(current.summary)): replay runs it"
        case .stoppedOrphan(let delivery, let seconds, let dryRun):
            let verb = dryRun ? "would stop" : "stopped"
            return "\(verb) the handler of \(delivery.id): its runner died and it ran \(DurationText.describe(seconds: seconds)), "
                + "past PIXELHOOK_HANDLER_TIMEOUT"
        }
    }
}
