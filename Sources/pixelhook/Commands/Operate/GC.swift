import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// `pixelhook gc --older-than DURATION`: removes old deliveries (SPEC "Commands").
struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove deliveries older than a duration, with their results and output.",
        discussion: """
            Removes each delivery whose payload was stored longer ago than --older-than \
            (payload, result and output, whatever the result), and temporary files left by a \
            crash; then the bookkeeping files and directory of each build left empty, and \
            empty project directories. A build whose handlers are running is not touched.

            A removed payload is also a removed dedup marker: should the sender deliver that \
            event again, it is stored and handled as new. Keep --older-than well past the \
            time you need `builds`, `retry` and `replay` for a build (7d is a good start).

            Prints what it removed. Exit status: 0; 74 if there is no spool or it cannot be changed; 77 if root cannot become the spool's owner; 78 if \
            the settings are invalid; 64 for bad arguments.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @Option(help: ArgumentHelp("Remove what is older than this: 90s, 30m, 12h, 7d, 2w.", valueName: "duration"))
    var olderThan: String

    func validate() throws {
        guard DurationText.seconds(olderThan) != nil else {
            throw ValidationError("--older-than must be \(DurationText.expected), got '\(olderThan)'")
        }
    }

    func run() throws {
        let settings = try settings.loadExistingSpool()
        let seconds = DurationText.seconds(olderThan)!
        let summary: SpoolCollector.Summary
        do {
            summary = try SpoolCollector(spool: Spool(root: settings.spool), cutoff: Clock.milliseconds() - seconds * 1000).run()
        } catch {
            throw CommandFailure(error)
        }
        StandardOutput.write(GC.describe(summary, olderThan: olderThan) + "\n", to: 1)
    }

    /// `removed 3 deliveries older than 7d, 1 leftover file, 2 build directories, 1 project
    /// directory; skipped 1 build whose handlers are running: p1/u1`
    static func describe(_ summary: SpoolCollector.Summary, olderThan: String) -> String {
        func count(_ number: Int, _ one: String, _ many: String) -> String { "\(number) \(number == 1 ? one : many)" }
        var line = "removed \(count(summary.deliveries, "delivery", "deliveries")) older than \(olderThan), "
            + "\(count(summary.leftovers, "leftover file", "leftover files")), "
            + "\(count(summary.builds, "build directory", "build directories")), "
            + "\(count(summary.projects, "project directory", "project directories"))"
        if !summary.busy.isEmpty {
            line += "; skipped \(count(summary.busy.count, "build", "builds")) whose handlers are running: "
                + summary.busy.map(\.description).joined(separator: ", ")
        }
        return line
    }
}
