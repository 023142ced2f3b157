#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// The runner process from its first instruction: `main.swift` hands it the arguments before
/// anything else, so a runner a gateway started (`pixelhook run-queue --slot N`, see `start`)
/// goes from `exec` to `runPending` without the command-line parser. The `run-queue` command
/// (`--help`, a delivery id) comes here too, through `drain`.
extension DetachedQueueRunner {
    /// Runs the runner and exits when `arguments` are exactly what `start` passes; returns
    /// otherwise. Its failure is one line on stderr and exit 64, as the parsed command says it.
    public static func enterIfStarted(arguments: [String]) {
        let mode: Mode
        if arguments.count == 4, arguments[1] == subcommand, arguments[2] == slotOption, let slot = Int(arguments[3]) {
            mode = .slot(slot)
        } else if arguments.count == 3, arguments[1] == subcommand, arguments[2] == ResidentRunner.option {
            mode = .resident
        } else {
            return
        }
        HandlerProcess.adoptOrphans()
        guard let problem = drain(delivery: nil, mode: mode) else { exit(0) }
        StandardOutput.write("pixelhook: \(problem.asOneLine) (see 'pixelhook --help')\n", to: 2)
        exit(ExitStatus.usage.rawValue)
    }

    /// How a runner was started: by the `run-queue` command (nil slot) or a gateway that took
    /// a slot for it (fd 3), or as a `ResidentRunner` (its wake pipe on fd 4).
    public enum Mode: Sendable, Equatable {
        case slot(Int?)
        case resident
    }

    /// Loads the settings from the environment the gateway passed, lists `delivery`'s build
    /// first when given, and runs the pool's loop holding `slot` (fd 3); returns why it could
    /// not, or nil.
    public static func drain(delivery: String?, slot: Int?) -> String? {
        drain(delivery: delivery, mode: .slot(slot))
    }

    static func drain(delivery: String?, mode: Mode) -> String? {
        let settings: Settings
        switch SettingsLoader.load(environment: ProcessEnvironment.current()) {
        case .success(let valid): settings = valid
        case .failure(let error):
            // A detached runner's stderr is /dev/null: the spool's alarm log is where it is seen.
            if let root = error.spool { AlarmLog(spool: Spool(root: root)).append("runner: settings invalid: \(error.message)") }
            return error.message
        }
        if let delivery {
            guard let key = key(fromID: delivery) else { return "not a delivery id: \(delivery)" }
            PendingBuilds(spool: Spool(root: settings.spool)).mark(key.buildID)
        }
        let slot: Int? = if case .slot(let index) = mode { index } else { nil }
        // Cluster mode: the helper runs the queue with PostgreSQL, on the same slot (fd 3).
        if settings.cluster != nil {
            return ClusterHelper.exec([subcommand] + (slot.map { [slotOption, String($0)] } ?? []), settings: settings)
        }
        let inherited = slot.map { HandlerSlots.Slot.inherited(index: $0, descriptor: inheritedSlotDescriptor) }
        do {
            if mode == .resident {
                try ResidentRunner.serve(settings: settings)
            } else {
                try runPending(settings: settings, inherited: inherited)
            }
        } catch {
            AlarmLog(spool: Spool(root: settings.spool)).append("runner: \(error.description)")
            return error.description
        }
        return nil
    }
}
