import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// Internal: the detached runner a gateway starts after answering. Drains every build listed
/// in `SPOOL/pending/`, then exits. Settings come from the environment the gateway passed.
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
        let settings: Settings
        switch SettingsLoader.load(environment: ProcessEnvironment.current()) {
        case .success(let valid): settings = valid
        case .failure(let error): throw ValidationError(error.message)
        }
        if let delivery {
            guard let key = DetachedQueueRunner.key(fromID: delivery) else {
                throw ValidationError("not a delivery id: \(delivery)")
            }
            PendingBuilds(spool: Spool(root: settings.spool)).mark(key.buildID)
        }
        do {
            let inherited = slot.map { HandlerSlots.Slot.inherited(index: $0, descriptor: DetachedQueueRunner.inheritedSlotDescriptor) }
            try DetachedQueueRunner.runPending(settings: settings, inherited: inherited)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
