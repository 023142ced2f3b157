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

            Cluster mode (PIXELHOOK_CLUSTER set): the whole cluster's builds, whichever host \
            stored or ran them, with this host's deliveries not handed over yet; two more \
            columns say which host stored each delivery (+N: other hosts stored duplicates) and \
            which ran it, or runs it now; --json adds a "cluster" object to each event \
            (storedBy, alsoStoredBy, ranBy, runningOn, handedOver). With PostgreSQL \
            unreachable: this host's spool as on one host, one line on stderr saying so, exit 69.

            Exit status: 0; 69 in cluster mode when PostgreSQL or pixelhook-cluster cannot be \
            reached (this host's builds are printed all the same); 74 if there is no spool or it cannot be read; 77 if root cannot become the spool's owner; 78 if the settings are invalid; \
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
        if settings.cluster != nil {
            // The cluster's view, not this spool's followed by the cluster's: on a host behind a
            // balancer the local spool holds about half of each build, its handed-over
            // deliveries say only "handed over", and an operator asks what happened to a build,
            // wherever it ran. `pixelhook-cluster builds-view` reads both, PostgreSQL and this
            // spool (deliveries not handed over yet), and prints them in this command's shape.
            var arguments = ["builds-view"] + (json ? ["--json"] : [])
            if let project { arguments += ["--project", project] }
            if let limit { arguments += ["--limit", String(limit)] }
            let problem = ClusterHelper.exec(arguments, settings: settings)
            // Returns only if it could not start: this host's builds, loudly.
            StandardOutput.write("pixelhook: \(problem): this host's builds only, not the cluster's\n", to: 2)
            try local(settings)
            throw ExitCode(.unavailable)
        }
        try local(settings)
    }

    private func local(_ settings: Settings) throws {
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
