import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// `pixelhook send URL`: one Streampixel-shaped event, `webhook.test` by default, like the
/// dashboard's Test button (SPEC "Commands").
struct Send: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Post one Streampixel-shaped event to a webhook URL, like the dashboard's Test button.",
        discussion: """
            With no options it posts what Streampixel's Test button posts: webhook.test with \
            projectId test_project_id, uploadId test_upload_id and fileUrl \
            https://example.com/test-build.zip. With --event it posts that build event as the \
            sender shapes it: its own status string (pending, Downloading Files, Extracting & \
            Scanning, Saving to Repository, Distribute, Approved, Reject), fileUrl null on \
            build.uploaded, an objection on build.rejected. The body always has all seven \
            fields in the sender's order, the timestamp is now.

            For a build event the project is --project-id, else the first of \
            PIXELHOOK_PROJECT_IDS (environment or PIXELHOOK_CONFIG), and the uploadId a new \
            random one unless --upload-id is given. An event Streampixel does not document \
            needs --status.

            Prints `EVENT STATUS BODY` on one line. Exit status 0 on a 2xx answer; 1 on any \
            other answer, no connection, or no answer within --timeout (one line on stderr); \
            64 for bad arguments; 78 when no project is given or found, or the settings are \
            invalid.

            Example: pixelhook send 'https://your.host/hooks/streampixel?token=SECRET' \
            --event build.rejected --objection 'Missing pak files.'
            """
    )

    @Argument(help: "The webhook URL (http:// or https://), with ?token= if the receiver wants one.")
    var url: String

    @Option(help: "The event to post: webhook.test, or build.uploaded … build.approved, build.rejected.")
    var event: String = Pipeline.test.event

    @Option(help: "The projectId (default: test_project_id for webhook.test, else the first of PIXELHOOK_PROJECT_IDS).")
    var projectId: String?

    @Option(help: "The uploadId (default: test_upload_id for webhook.test, else a new random one).")
    var uploadId: String?

    @Option(help: "The fileUrl (default: the sender's example file; null on build.uploaded).")
    var fileUrl: String?

    @Option(help: "The rejection reason, build.rejected only (default: the sender's example objection).")
    var objection: String?

    @Option(help: "The status string instead of the event's own (required for an event Streampixel does not document).")
    var status: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds to wait for the whole answer, like the sender's limit.", valueName: "seconds"))
    var timeout: Double = 10

    @OptionGroup var settings: SettingsOptions

    func validate() throws {
        try WebhookPoster.check(url: url, timeout: timeout)
        guard !event.isEmpty, !event.contains(where: \.isWhitespace) else {
            throw ValidationError("--event must be an event name like build.approved, got '\(event)'")
        }
        if objection != nil, event != Pipeline.rejected.event {
            throw ValidationError("--objection is only sent with --event build.rejected")
        }
        if status == nil, Pipeline.stage(ofEvent: event) == nil {
            throw ValidationError("\(event) is not an event Streampixel documents: give its --status too")
        }
        for (name, value) in [("--project-id", projectId), ("--upload-id", uploadId), ("--status", status)] {
            if value?.isEmpty == true { throw ValidationError("\(name) must not be empty") }
        }
    }

    func run() throws {
        var envelope: Envelope
        let timestamp = Clock.iso8601()
        if event == Pipeline.test.event {
            envelope = EventFactory.test(timestamp: timestamp)
            if let projectId { envelope.projectId = projectId }
            if let uploadId { envelope.uploadId = uploadId }
        } else {
            let stage = Pipeline.stage(ofEvent: event) ?? Pipeline.Stage(event: event, status: status ?? "")
            envelope = EventFactory.envelope(
                stage, projectId: try WebhookPoster.project(projectId, settings: settings),
                uploadId: uploadId ?? EventFactory.newUploadID(), objection: objection, timestamp: timestamp)
        }
        if let fileUrl { envelope.fileUrl = fileUrl }
        if let status { envelope.status = status }

        let reply = try WebhookPoster.post(envelope, to: url, client: WebhookClient(timeoutSeconds: timeout))
        guard reply.isSuccess else { throw WebhookPoster.refused(reply, event: envelope.event, url: url) }
    }
}
