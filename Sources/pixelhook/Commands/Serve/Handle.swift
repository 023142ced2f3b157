#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import PixelhookCore
import PixelhookGateways
import PixelhookRuntime

/// `pixelhook handle < payload.json`: the whole request path for one payload from stdin, with
/// the handler in the foreground. Its exit status is the outcome (SPEC "Modes").
struct Handle: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Handle one payload from stdin and run its handler in the foreground.",
        discussion: """
            Validates, stores and deduplicates the payload exactly as a web request would, then \
            runs the event's handler and waits for it. Prints the response JSON, then the \
            handler's result JSON if one ran.

            Exit status: 0 handled (or duplicate, or ignored), 65 invalid payload or unknown \
            project, 78 settings invalid, 74 storage failed, 75 handler asked for a retry, \
            77 started by root on another user's spool and cannot become that user, 1 handler \
            failed or timed out.
            """
    )

    @Option(help: "A config file of PIXELHOOK_* settings (default: $PIXELHOOK_CONFIG, else ~/.config/pixelhook/pixelhook.conf, else /etc/pixelhook/pixelhook.conf).")
    var config: String?

    func run() throws {
        HandlerProcess.adoptOrphans()  // it runs a handler (see `HandlerProcess.adoptOrphans`)
        let settings = SettingsLoader.load(environment: ProcessEnvironment.current(), configPath: config)
        if case .success(let valid) = settings {
            do {
                try RunAsSpoolOwner.become(ownerOf: valid.spool)
            } catch let failure as CommandFailure {
                StandardOutput.write("pixelhook: \(failure.description)\n", to: 2)
                throw ExitCode(.permission)
            }
        }
        let reception = StdinGateway.receive(settings: settings)
        StandardOutput.write(reception.response.bodyText + "\n", to: 1)
        if let alarm = reception.alarm { StandardOutput.write(alarm + "\n", to: 2) }

        switch reception.response.status {
        case 200: break
        case 500: throw ExitCode(.settings)
        case 503: throw ExitCode(.storage)
        default: throw ExitCode(.invalid)
        }
        guard let followUp = reception.followUp else { return }
        if followUp.settings.cluster != nil {  // the cluster runs it, on some host (docs/cluster.md)
            throw CommandFailure(.storage, ClusterHelper.exec([DetachedQueueRunner.subcommand], settings: followUp.settings))
        }
        let results: [String: HandlerResult]
        do {
            results = try BuildQueue(settings: followUp.settings, key: followUp.key).drain()
        } catch {
            StandardOutput.write("pixelhook: \(error)\n", to: 2)
            throw ExitCode(.storage)
        }
        guard let result = results[SpoolLayout.payloadName(event: followUp.key.event)] else { return }
        StandardOutput.write(result.json.description + "\n", to: 1)
        if result.handleExitStatus != .success { throw ExitCode(result.handleExitStatus) }
    }
}
