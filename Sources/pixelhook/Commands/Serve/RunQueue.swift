import ArgumentParser
import PixelhookRuntime

/// Internal: the detached runner a gateway starts after answering. Drains every build listed
/// in `SPOOL/pending/`, then exits. Settings come from the environment the gateway passed.
///
/// A gateway starts it as `pixelhook run-queue --slot N`, which `main.swift` hands to
/// `DetachedQueueRunner.enterIfStarted` before any parsing; this type keeps `--help` and
/// manual use.
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
        HandlerProcess.adoptOrphans()  // it runs handlers (see `HandlerProcess.adoptOrphans`)
        if let problem = DetachedQueueRunner.drain(delivery: delivery, slot: slot) { throw ValidationError(problem) }
    }
}
