/// `check`'s lines about deliveries the request log shows were not stored: one line per
/// reason with its count and status, and for an unknown projectId close to a configured one
/// (a digit off, a letter swapped), the configured one it most likely meant.
///
/// ```swift
/// RefusalSummary.lines(records, projectIDs: ["12345"], window: "24 h")
/// // ["2 deliveries refused in the last 24 h: unknown_project (403), for projectId 12346 (did you mean 12345? ...)"]
/// ```
public enum RefusalSummary {
    public static func lines(_ records: [RequestRecord], projectIDs: Set<String>?, window: String) -> [String] {
        var byReason: [String: (count: Int, status: Int, values: [String: Int])] = [:]
        var order: [String] = []
        for record in records where record.isRefused {
            let reason = record.refusalReason
            if byReason[reason] == nil { order.append(reason); byReason[reason] = (0, record.status, [:]) }
            byReason[reason]!.count += 1
            // What varies within a reason: the projectId refused, or the event ignored.
            let value = reason == "unknown_project" ? record.projectId : (record.outcome.hasPrefix("ignored") ? record.event : nil)
            if let value { byReason[reason]!.values[value, default: 0] += 1 }
        }
        return order.sorted { byReason[$0]!.count > byReason[$1]!.count || (byReason[$0]!.count == byReason[$1]!.count && $0 < $1) }
            .map { reason in
                let entry = byReason[reason]!
                let noun = entry.count == 1 ? "delivery" : "deliveries"
                let verb = reason.hasPrefix("ignored") ? "ignored (200, not stored)" : "refused"
                var line = "\(entry.count) \(noun) \(verb) in the last \(window): \(reason.hasPrefix("ignored") ? reason : "\(reason) (\(entry.status))")"
                let values = entry.values.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.prefix(3)
                if !values.isEmpty {
                    let what = reason == "unknown_project" ? "projectId" : "event"
                    line += ", for " + values.map { value in
                        let hint = what == "projectId" ? closeProjectID(to: value.key, in: projectIDs ?? []).map { " (did you mean \($0)? it is in \(Settings.Key.projectIDs))" } ?? "" : ""
                        return "\(what) \(value.key)\(hint)"
                    }.joined(separator: ", ")
                }
                return line + "; see pixelhook log --refused"
            }
    }

    /// The configured projectId `given` is most likely a typo of: at most 2 edits away
    /// (a digit off, one left out, one too many, two swapped); nil when none is that close.
    public static func closeProjectID(to given: String, in configured: Set<String>) -> String? {
        let typed = Array(given)
        var best: (distance: Int, id: String)?
        for candidate in configured.sorted() where candidate != given {
            let distance = HandlerFileCheck.editDistance(typed, Array(candidate))
            if distance <= 2, distance < (best?.distance ?? .max) { best = (distance, candidate) }
        }
        return best?.id
    }
}
