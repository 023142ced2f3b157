#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import PixelhookCore
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

    enum Status {
        static let handled: Int32 = 0
        static let failed: Int32 = 1
        static let invalid: Int32 = 65  // EX_DATAERR
        static let storage: Int32 = 74  // EX_IOERR
        static let retry: Int32 = 75    // EX_TEMPFAIL
        static let permission: Int32 = 77 // EX_NOPERM: root, and cannot become the spool's owner
        static let settings: Int32 = 78 // EX_CONFIG
    }

    func run() throws {
        // stdin carries no URL: the token guards HTTP only.
        let settings = SettingsLoader.load(environment: ProcessEnvironment.current(), configPath: config)
            .map { valid -> Settings in var copy = valid; copy.token = nil; return copy }
        if case .success(let valid) = settings {
            do {
                try RunAsSpoolOwner.become(ownerOf: valid.spool)
            } catch let failure as CommandFailure {
                StandardOutput.write("pixelhook: \(failure.description)\n", to: 2)
                throw ExitCode(Status.permission)
            }
        }
        let head = RequestHead(method: "POST", contentType: "application/json", remoteAddress: "stdin")
        var receiver = Receiver(settings: settings)
        receiver.throttlesTests = false  // the operator's own test, not the internet's
        let reception = receiver.receive(head) { limit throws(ReceiveError) in
            try StandardInput.readBody(contentLength: nil, limit: limit)
        }
        StandardOutput.write(reception.response.bodyText + "\n", to: 1)
        if let alarm = reception.alarm { StandardOutput.write(alarm + "\n", to: 2) }

        switch reception.response.status {
        case 200: break
        case 500: throw ExitCode(Status.settings)
        case 503: throw ExitCode(Status.storage)
        default: throw ExitCode(Status.invalid)
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
            throw ExitCode(Status.storage)
        }
        guard let result = results[followUp.key.event + ".json"] else { return }
        StandardOutput.write(result.json.description + "\n", to: 1)
        if result.handleExitCode != 0 { throw ExitCode(result.handleExitCode) }
    }
}
