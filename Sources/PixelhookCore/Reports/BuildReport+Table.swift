/// `pixelhook builds` for a person: one block per build, a headline with the outcome, then one
/// line per event.
///
/// ```
/// p1  u1  rejected: Build contains unsupported file formats.
///   event              sent                      received                  after  handler
///   build.uploaded     2026-03-29T14:30:00.000Z  2026-03-29T14:30:00.412Z  -      done
///   build.downloading  2026-03-29T14:31:05.000Z  2026-03-29T14:31:05.380Z  1m 5s  failed (exit 3)
///   build.rejected     2026-03-29T14:31:07.000Z  2026-03-29T14:31:07.391Z  2s     pending
/// ```
///
/// In cluster mode two more columns say which host stored each delivery and which ran it.
extension BuildReport {
    public static func table(_ rows: [BuildReport], now: Int) -> String {
        rows.map { $0.block(now: now) }.joined(separator: "\n")
    }

    /// The headline's outcome: `approved`, `rejected: OBJECTION`, `in progress`,
    /// `stalled: no event for 3h 2m`, `test`; then `, handlers running` while the lock is held.
    public func outcomeText(now: Int) -> String {
        var text: String
        switch outcome {
        case .approved: text = "approved"
        case .rejected: text = objection.map { "rejected: \($0)" } ?? "rejected"
        case .inProgress: text = "in progress"
        case .stalled: text = "stalled: no event for \(DurationText.describe(milliseconds: now - lastReceivedAt))"
        case .test: text = "test deliveries"
        }
        if isRunning { text += ", handlers running" }
        return text
    }

    func block(now: Int) -> String {
        let headline = [projectId, uploadId ?? "(no uploadId)", outcomeText(now: now)]
            .map(BuildReport.printable).joined(separator: "  ")
        let cluster = stages.contains { $0.hosts != nil }
        let header = ["event", "sent", "received", "after", "handler"] + (cluster ? ["stored by", "ran by"] : [])
        let lines = stages.map { stage in
            ([
                stage.event,
                stage.timestamp ?? "?",
                EpochTime.iso8601(milliseconds: stage.receivedAt),
                stage.sincePreviousMs.map { DurationText.describe(milliseconds: $0) } ?? "-",
                stage.result?.summary ?? "pending",
            ] + (cluster ? [stage.hosts?.storedText ?? "-", stage.hosts?.ranText ?? "-"] : [])).map(BuildReport.printable)
        }
        let widths = header.indices.map { column in ([header] + lines).map { $0[column].count }.max() ?? 0 }
        func render(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            return "  " + padded.joined(separator: "  ")
        }
        return ([headline, render(header)] + lines.map(render)).joined(separator: "\n") + "\n"
    }

    /// Sender-supplied text (ids, objections) shown on a terminal: control characters, which
    /// could move the cursor or recolour the screen, become `?`.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) ? "?" : scalar
        }))
    }
}
