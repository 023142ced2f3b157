#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// Internal: the detached runner a gateway starts after answering. Drains every build listed
/// in `SPOOL/pending/`, then exits. Settings come from the environment the gateway passed.
///
/// A gateway starts it as `pixelhook run-queue --slot N`, which `main.swift` hands straight to
/// `drain(delivery:slot:)`: ArgumentParser's reflection over every command cost 10 M
/// instructions (about 3 ms) per runner start. This type keeps `--help` and manual use.
struct RunQueue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: DetachedQueueRunner.subcommand,
        abstract: "Run the pending handlers of the spool (started by pixelhook itself).",
        shouldDisplay: false
    )

    @Argument(help: "A delivery id PROJECT/BUILD/EVENT whose build to list as pending first.")
    var delivery: String?

    @Option(name: .customLong(String(DetachedQueueRunner.slotOption.dropFirst(2))),
            help: "The runner slot the starting process took, open as fd 3.")
    var slot: Int?

    func run() throws {
        if let problem = RunQueue.drain(delivery: delivery, slot: slot) { throw ValidationError(problem) }
    }

    /// The fast path from `main.swift`: `run-queue --slot N` exactly, else nil (parse normally).
    static func fastArguments(_ arguments: [String]) -> Int? {
        guard arguments.count == 4, arguments[1] == DetachedQueueRunner.subcommand,
              arguments[2] == DetachedQueueRunner.slotOption else { return nil }
        return Int(arguments[3])
    }

    /// The fast path's failure, said as the parsed path says it (a `ValidationError`): one
    /// line on stderr and exit 64. It used to exit 70 with nothing said.
    static func fail(_ problem: String) -> Never {
        StandardOutput.write("pixelhook: \(Pixelhook.oneLine(problem))\(Pixelhook.helpHint([DetachedQueueRunner.subcommand]))\n", to: 2)
        Glibc.exit(ExitCode.validationFailure.rawValue)
    }

    /// Runs the pool's loop; returns why it could not, or nil.
    static func drain(delivery: String?, slot: Int?) -> String? {
        let settings: Settings
        switch SettingsLoader.load(environment: ProcessEnvironment.current()) {
        case .success(let valid): settings = valid
        case .failure(let error):
            // A detached runner's stderr is /dev/null: the spool's alarm log is where it is seen.
            if let root = error.spool { AlarmLog(spool: Spool(root: root)).append("runner: settings invalid: \(error.message)") }
            return error.message
        }
        if let delivery {
            guard let key = DetachedQueueRunner.key(fromID: delivery) else { return "not a delivery id: \(delivery)" }
            PendingBuilds(spool: Spool(root: settings.spool)).mark(key.buildID)
        }
        // Cluster mode: the helper runs the queue with PostgreSQL, on the same slot (fd 3).
        if settings.cluster != nil {
            return ClusterHelper.exec([DetachedQueueRunner.subcommand] + (slot.map { [DetachedQueueRunner.slotOption, String($0)] } ?? []),
                                      settings: settings)
        }
        let inherited = slot.map { HandlerSlots.Slot.inherited(index: $0, descriptor: DetachedQueueRunner.inheritedSlotDescriptor) }
        do {
            try DetachedQueueRunner.runPending(settings: settings, inherited: inherited)
        } catch {
            AlarmLog(spool: Spool(root: settings.spool)).append("runner: \(error.description)")
            return error.description
        }
        return nil
    }
}
