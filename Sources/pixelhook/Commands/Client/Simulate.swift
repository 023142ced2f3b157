import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// `pixelhook simulate URL`: a whole build pipeline, in order, for one new uploadId (SPEC
/// "Commands").
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Post a whole build pipeline, in order, for one new uploadId.",
        discussion: """
            Posts build.uploaded, build.downloading, build.extracting, build.saving, \
            build.distributing and build.approved, each shaped as the sender does, for one \
            uploadId (a new random one unless --upload-id is given). With --reject-at STAGE it \
            posts the stages up to and including STAGE, then build.rejected with --objection, \
            and nothing after: what Streampixel sends for a build that fails there.

            The project is --project-id, else the first of PIXELHOOK_PROJECT_IDS (environment \
            or PIXELHOOK_CONFIG).

            Prints the build first, then `EVENT STATUS BODY` per event. Stops at the first \
            answer that is not 2xx, or no answer within --timeout: exit 1, one line on stderr. \
            Exit 0 when every event got a 2xx; 64 for bad arguments.

            Example: pixelhook simulate http://127.0.0.1:8080/hooks/streampixel \
            --reject-at extracting --objection 'Build contains unsupported file formats.'
            """
    )

    @Argument(help: "The webhook URL (http:// or https://), with ?token= if the receiver wants one.")
    var url: String

    @Option(help: "The projectId (default: the first of PIXELHOOK_PROJECT_IDS).")
    var projectId: String?

    @Option(help: "The uploadId of the build (default: a new random 24-hex-digit id).")
    var uploadId: String?

    @Option(help: ArgumentHelp(
        "Reject the build after this stage: uploaded, downloading, extracting, saving or distributing (or its event, build.extracting).",
        valueName: "stage"))
    var rejectAt: String?

    @Option(help: "The rejection reason build.rejected carries (required with --reject-at).")
    var objection: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Milliseconds to wait between two events.", valueName: "ms"))
    var interval: Int = 0

    @Option(help: "The fileUrl of the build (default: the sender's example file; null on build.uploaded).")
    var fileUrl: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds to wait for each answer, like the sender's limit.", valueName: "seconds"))
    var timeout: Double = 10

    @OptionGroup var settings: SettingsOptions

    func validate() throws {
        try WebhookPoster.check(url: url, timeout: timeout)
        if let rejectAt, Pipeline.stage(named: rejectAt) == nil {
            let names = Pipeline.rejectable.map(\.name).joined(separator: ", ")
            throw ValidationError("--reject-at must be one of \(names) (or build.NAME), got '\(rejectAt)'")
        }
        switch (rejectAt, objection) {
        case (.some, nil): throw ValidationError("--reject-at needs --objection TEXT: the reason build.rejected carries")
        case (nil, .some): throw ValidationError("--objection needs --reject-at STAGE: only a rejected build has one")
        default: break
        }
        guard (0...3_600_000).contains(interval) else {
            throw ValidationError("--interval must be from 0 to 3600000 milliseconds, got \(interval)")
        }
        for (name, value) in [("--project-id", projectId), ("--upload-id", uploadId)] {
            if value?.isEmpty == true { throw ValidationError("\(name) must not be empty") }
        }
    }

    func run() throws {
        let project = try WebhookPoster.project(projectId, settings: settings)
        let build = uploadId ?? EventFactory.newUploadID()
        let stages = Pipeline.run(rejectingAt: rejectAt.flatMap(Pipeline.stage(named:)))
        StandardOutput.write("build \(build) of project \(project)\n", to: 1)

        let client = WebhookClient(timeoutSeconds: timeout)
        for (index, stage) in stages.enumerated() {
            if index > 0, interval > 0 { Syscalls.sleep(seconds: Double(interval) / 1000) }
            let envelope = EventFactory.envelope(
                stage, projectId: project, uploadId: build,
                fileUrl: fileUrl ?? EventFactory.exampleFileURL, objection: objection,
                timestamp: Clock.iso8601())
            let reply = try WebhookPoster.post(envelope, to: url, client: client)
            guard reply.isSuccess else { throw WebhookPoster.refused(reply, event: stage.event, url: url) }
        }
    }
}
