import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// `pixelhook builds`: every build in the spool, newest first, with its stages, outcome and
/// handler results (SPEC "Commands").
struct Builds: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each build: its stages and their times, how it ended, what each handler did.",
        discussion: """
            One block per build (projectId + uploadId), the most recently active first. The \
            headline gives the outcome: approved; rejected with the objection; in progress; \
            stalled when no event came for longer than PIXELHOOK_STALLED_AFTER (default 1h); \
            or test deliveries for the dashboard's Test button. Then one line per event: when \
            the sender says it happened (sent), when pixelhook stored it (received), the time \
            since the previous stage (after), and its handler: done, failed (exit N), timeout, \
            retry (exit 75), gave up after N attempts (PIXELHOOK_RETRY_LIMIT reached: retry \
            runs it no more, replay does; "gave_up" in --json), or pending (no result yet: \
            queued, running, or its runner died; `pixelhook retry` runs those). A later \
            attempt says which: failed (exit 3), attempt 2.

            --json prints one JSON document instead, {"builds":[...]}, whose fields are listed \
            in docs/commands.md ("builds"); fields may be added, never renamed.

            Exit status: 0; 74 if there is no spool or it cannot be read; 77 if root cannot become the spool's owner; 78 if the settings are invalid; \
            64 for bad arguments.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @Flag(help: "Print JSON (stable field names, see docs/commands.md) instead of the table.")
    var json = false

    @Option(name: [.customLong("project"), .customLong("project-id")],
            help: ArgumentHelp("Only the builds of this projectId.", valueName: "id"))
    var project: String?

    // `.unconditional`: `--limit -1` is a bad number, said so, not a missing value.
    @Option(parsing: .unconditional, help: ArgumentHelp("Show at most this many builds, newest first.", valueName: "n"))
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be a whole number of at least 1, got \(limit)") }
        if let project, project.isEmpty { throw ValidationError("--project must not be empty") }
    }

    func run() throws {
        let settings = try settings.loadExistingSpool()
        let stored: [StoredBuild]
        do {
            stored = try Spool(root: settings.spool).storedBuilds(projectId: project, newest: limit)
        } catch {
            throw CommandFailure(error)
        }
        let now = Clock.milliseconds()
        let rows = BuildReport.rows(stored, now: now, stalledAfterSeconds: settings.stalledAfterSeconds,
                                    projectId: project, limit: limit)
        if json {
            StandardOutput.write(BuildReport.json(rows).description + "\n", to: 1)
        } else if rows.isEmpty {
            let scope = project.map { " of project \($0)" } ?? ""
            StandardOutput.write("no builds\(scope) in \(Spool(root: settings.spool).layout.deliveries)\n", to: 1)
        } else {
            StandardOutput.write(BuildReport.table(rows, now: now), to: 1)
        }
    }
}
