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
            try DetachedQueueRunner.runPending(settings: settings)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
