/// `pixelhook log` for a person: one aligned line per request, oldest first.
///
/// ```
/// time                      status  event           project  upload  outcome
/// 2026-03-29T14:30:00.412Z  200     build.approved  p1       u1      stored
/// 2026-03-29T14:31:02.020Z  403     build.approved  p2       u2      unknown_project: projectId p2 is not in PIXELHOOK_PROJECT_IDS
/// ```
///
/// The outcome comes last: it is the one long column, and aligned columns after it would
/// push every short one off the screen.
extension RequestRecord {
    public static func table(_ records: [RequestRecord]) -> String {
        let header = ["time", "status", "event", "project", "upload", "outcome"]
        let rows = records.map { record in
            [record.time, String(record.status), record.event ?? "-", record.projectId ?? "-",
             record.uploadId ?? "-", record.outcome].map(BuildReport.printable)
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { cells in
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
