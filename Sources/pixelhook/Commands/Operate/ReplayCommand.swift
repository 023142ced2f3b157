import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// `pixelhook replay UPLOAD_ID`: runs the stored deliveries of one upload again, on purpose
/// (SPEC "Commands").
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run the handlers of an upload's stored deliveries again, replacing their results.",
        discussion: """
            Runs every stored delivery of UPLOAD_ID (only --event's with --event, only \
            --project's with --project) again, in arrival order, whatever its result was: after \
            fixing a handler, or to redeploy. Waits while the build's handlers are running, then \
            runs them under the build's lock; each new result (and output) replaces the old. \
            The handler gets the same input as the first time. Prints one line per delivery, \
            `PROJECT/BUILD/EVENT: NEW STATE (was OLD STATE)`.

            Cluster mode (PIXELHOOK_CLUSTER set): the cluster's copies, whichever host stored \
            or ran them: each is made to wait again in PostgreSQL and runs once more, on \
            whichever host claims its build (this one, or another host's runner), under the \
            usual lease and fence; the line ends with `, ran by HOST`. A delivery that has \
            not run to an end yet is left to its run; one held behind an earlier delivery of \
            its build that is not done prints `waiting` and counts as not done.

            Exit status: 0 when every handler it ran is done; 1 when one did not end done, or \
            nothing stored matches; 69 in cluster mode when PostgreSQL cannot be reached; 74 if there is no spool or it cannot be read or written; 77 if root cannot become the spool's owner; 78 if the \
            settings are invalid; 64 for bad arguments.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @Argument(help: ArgumentHelp("The uploadId whose deliveries to run again.", valueName: "upload-id"))
    var uploadId: String

    @Option(help: ArgumentHelp("Only this event's delivery, for example build.approved.", valueName: "event"))
    var event: String?

    @Option(name: [.customLong("project"), .customLong("project-id")],
            help: ArgumentHelp("Only the upload of this projectId.", valueName: "id"))
    var project: String?

    func validate() throws {
        guard !uploadId.isEmpty else { throw ValidationError("the uploadId must not be empty") }
        if let event, event.isEmpty { throw ValidationError("--event must not be empty") }
        if let project, project.isEmpty { throw ValidationError("--project must not be empty") }
    }

    func run() throws {
        HandlerProcess.adoptOrphans()  // it runs handlers (see `HandlerProcess.adoptOrphans`)
        let settings = try settings.loadExistingSpool()
        if settings.cluster != nil {  // the cluster's copy, on whichever host (docs/cluster.md)
            let scope = (event.map { ["--event", $0] } ?? []) + (project.map { ["--project", $0] } ?? [])
            throw CommandFailure(.storage, ClusterHelper.exec(["replay", uploadId] + scope, settings: settings))
        }
        let replay = Replay(settings: settings, uploadId: uploadId, event: event, projectId: project)
        let runs: [BuildQueue.Run]
        do {
            guard try !replay.matches().isEmpty else {
                var scope = ""
                if let event { scope += " with event \(event)" }
                if let project { scope += " in project \(project)" }
                throw CommandFailure(.failed, "no stored delivery of upload \(uploadId)\(scope) in \(Spool(root: settings.spool).layout.deliveries)")
            }
            runs = try replay.run { run in
                StandardOutput.write(run.line + "\n", to: 1)
            }
        } catch let error as StorageError {
            throw CommandFailure(error)
        }
        if runs.contains(where: { $0.result.state != .done }) { throw ExitCode(.failed) }
    }
}
