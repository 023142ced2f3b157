import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// Internal: the detached runner a gateway starts after answering. Runs every pending handler
/// of one build, then exits. Settings come from the environment the gateway passed.
struct RunQueue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: DetachedQueueRunner.subcommand,
        abstract: "Run the pending handlers of one build (started by pixelhook itself).",
        shouldDisplay: false
    )

    @Argument(help: "The delivery id PROJECT/BUILD/EVENT whose build to run.")
    var delivery: String

    func run() throws {
        guard let key = DetachedQueueRunner.key(fromID: delivery) else {
            throw ValidationError("not a delivery id: \(delivery)")
        }
        let settings: Settings
        switch SettingsLoader.load(environment: ProcessEnvironment.current()) {
        case .success(let valid): settings = valid
        case .failure(let error): throw ValidationError(error.message)
        }
        do {
            try BuildQueue(settings: settings, key: key).drain()
        } catch {
            throw ValidationError(error.description)
        }
    }
}
