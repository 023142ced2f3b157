import ArgumentParser
import PixelhookCore
import PixelhookRuntime

/// `pixelhook log`: the spool's request log, readable (SPEC "Commands").
struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the request log: every request, what was answered and why.",
        discussion: """
            One line per request, oldest first: when it came (UTC), the status answered, the \
            event, projectId and uploadId it carried, and the outcome: stored, duplicate, test \
            coalesced, health, ignored: REASON, or the refusal's code and reason \
            (unknown_project, unauthorized, invalid_payload, ...). 500 and 503 lines also \
            carry the detail the sender was not shown (paths, OS errors).

            --refused keeps only the deliveries that were not stored: refused (4xx, 5xx) or \
            ignored (200, but not in PIXELHOOK_EVENTS, or an unknown event). The sender never \
            retries, so these are lost: fix the cause, then ask for the build again.

            --since 2h reads the log from its end backwards, only as far as it needs. Without \
            it, at most the last 64 MiB of the log are read.

            --json prints the log's own JSON lines, unchanged (fields: time, remote, method, \
            status, event, projectId, uploadId, outcome).

            Exit status: 0; 74 if there is no spool or the log cannot be read; 77 if root \
            cannot become the spool's owner; 78 if the settings are invalid; 64 for bad arguments.
            """
    )

    @OptionGroup var settings: SettingsOptions

    @Flag(help: "Only the deliveries that were not stored: 4xx, 5xx, and ignored.")
    var refused = false

    @Option(help: ArgumentHelp("Only the requests of the last DURATION: 90s, 30m, 2h, 1d, 1w.", valueName: "duration"))
    var since: String?

    @Flag(help: "Print the log's JSON lines as they are.")
    var json = false

    func validate() throws {
        if let since, DurationText.seconds(since) == nil {
            throw ValidationError("--since must be \(DurationText.expected), got '\(since)'")
        }
    }

    func run() throws {
        let settings = try settings.loadExistingSpool()
        let spool = Spool(root: settings.spool)
        let cutoff = since.flatMap(DurationText.seconds).map { RequestLogTail.time(secondsAgo: $0) }
        let tail: RequestLogTail.Lines
        do throws(StorageError) {
            tail = try RequestLogTail(spool: spool).lines(since: cutoff)
        } catch {
            throw CommandFailure(error)
        }
        // A torn line (a crash mid-write) is skipped here, kept as it is by --json.
        var kept: [(line: [UInt8], record: RequestRecord?)] = tail.lines.map { ($0, RequestRecord(line: $0)) }
        if refused { kept = kept.filter { $0.record?.isRefused == true } }
        if json {
            for entry in kept { StandardOutput.write(String(decoding: entry.line, as: UTF8.self) + "\n", to: 1) }
            return
        }
        let records = kept.compactMap(\.record)
        if tail.cut { StandardOutput.write("(older requests not read: the log is larger than \(RequestLogTail.defaultMaximumBytes >> 20) MiB; use --since)\n", to: 1) }
        guard !records.isEmpty else {
            let what = refused ? "no refused or ignored deliveries" : "no requests"
            StandardOutput.write("\(what)\(since.map { " in the last \($0)" } ?? "") in \(spool.layout.requestLog)\n", to: 1)
            return
        }
        StandardOutput.write(RequestRecord.table(records), to: 1)
    }
}
