/// What the metrics count from the request log, one line at a time: the totals up to some
/// offset of `requests.log`, kept between scrapes in a checkpoint (`text`, `init?(text:)`),
/// so that a scrape reads only the lines written since the last one.
///
/// Every label value comes from a closed set (HTTP status codes, known event names, refusal
/// codes), so the number of series stays bounded whatever clients send.
public struct RequestLogTally: Sendable, Equatable {
    /// Every request, by HTTP status code.
    public var requestsByCode: [Int: Int] = [:]
    /// Deliveries stored (outcome `stored`), by event.
    public var deliveriesByEvent: [String: Int] = [:]
    /// Deliveries not stored: the refusal's code for a 4xx or 5xx answer to anything but GET
    /// or HEAD, `event_filtered` or `unknown_event` for an acknowledged event that was ignored.
    public var refusedByReason: [String: Int] = [:]
    /// When the last delivery other than `webhook.test` was stored, milliseconds.
    public var lastDeliveryMs: Int?
    /// When the last `webhook.test` was accepted (stored or coalesced), milliseconds.
    public var lastTestMs: Int?
    /// When each event was last stored: the last build's stage times.
    public var lastStoredMsByEvent: [String: Int] = [:]

    public init() {}

    /// The reasons `refusal` gives for a request pixelhook answers itself: exposed at 0 before
    /// the first, so `increase()` in an alert has a series to work on from the start.
    public static let refusalReasons = [
        "configuration", "event_filtered", "invalid_payload", "method_not_allowed", "payload_too_large",
        "storage", "unauthorized", "unknown_event", "unknown_project", "unsupported_media_type",
    ]

    public var storedDeliveries: Int { deliveriesByEvent.values.reduce(0, +) }

    /// Adds one line of the log (without its newline); a line that is not a record is skipped.
    public mutating func add(line: [UInt8]) {
        guard let members = JSONScanner.scalarMembers(line),
              case .integer(let status)? = members["status"],
              case .string(let outcome)? = members["outcome"] else { return }
        requestsByCode[status, default: 0] += 1
        let method: String = if case .string(let text)? = members["method"] { text } else { "" }
        let event: String? = if case .string(let text)? = members["event"], Event.isKnown(text) { text } else { nil }
        let time: Int? = if case .string(let text)? = members["time"] { EpochTime.milliseconds(iso8601: text) } else { nil }

        if outcome == "stored", let event {
            deliveriesByEvent[event, default: 0] += 1
            if let time {
                lastStoredMsByEvent[event] = max(lastStoredMsByEvent[event] ?? time, time)
                if event == Event.test {
                    lastTestMs = max(lastTestMs ?? time, time)
                } else {
                    lastDeliveryMs = max(lastDeliveryMs ?? time, time)
                }
            }
        } else if outcome == "test coalesced", let time {
            lastTestMs = max(lastTestMs ?? time, time)
        } else if let reason = RequestLogTally.refusal(status: status, method: method, outcome: outcome) {
            refusedByReason[reason, default: 0] += 1
        }
    }

    /// Why a delivery was not stored, as a label value; nil when it was (or was no delivery:
    /// a health check, a read view, a duplicate).
    static func refusal(status: Int, method: String, outcome: String) -> String? {
        if outcome.hasPrefix("ignored: ") {
            return outcome.hasSuffix("unknown event") ? "unknown_event" : "event_filtered"
        }
        guard status >= 400, method != "GET", method != "HEAD" else { return nil }
        // `CODE: reason`: the code is one of `ReceiveError.Kind`'s.
        let code = outcome.prefix { $0 != ":" }
        guard !code.isEmpty, code.allSatisfy({ $0.isLetter || $0 == "_" }) else { return "other" }
        return String(code)
    }

    // MARK: - Checkpoint form

    /// Tab-separated lines: `requests CODE N`, `delivered EVENT N`, `refused REASON N`,
    /// `last_delivery MS`, `last_test MS`, `last_event EVENT MS`.
    public var text: String {
        var lines: [String] = []
        for (code, count) in requestsByCode.sorted(by: { $0.key < $1.key }) { lines.append("requests\t\(code)\t\(count)") }
        for (event, count) in deliveriesByEvent.sorted(by: { $0.key < $1.key }) { lines.append("delivered\t\(event)\t\(count)") }
        for (reason, count) in refusedByReason.sorted(by: { $0.key < $1.key }) { lines.append("refused\t\(reason)\t\(count)") }
        if let lastDeliveryMs { lines.append("last_delivery\t\(lastDeliveryMs)") }
        if let lastTestMs { lines.append("last_test\t\(lastTestMs)") }
        for (event, time) in lastStoredMsByEvent.sorted(by: { $0.key < $1.key }) { lines.append("last_event\t\(event)\t\(time)") }
        return lines.map { $0 + "\n" }.joined()
    }

    /// Reads `text` back; unknown or malformed lines are skipped (a checkpoint is a cache:
    /// the worst a damaged one does is lose counts, never fail a scrape).
    public init(text: String) {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch (fields.first, fields.count) {
            case ("requests", 3): if let code = Int(fields[1]), let count = Int(fields[2]) { requestsByCode[code] = count }
            case ("delivered", 3): if Event.isKnown(fields[1]), let count = Int(fields[2]) { deliveriesByEvent[fields[1]] = count }
            case ("refused", 3): if let count = Int(fields[2]) { refusedByReason[fields[1]] = count }
            case ("last_delivery", 2): lastDeliveryMs = Int(fields[1])
            case ("last_test", 2): lastTestMs = Int(fields[1])
            case ("last_event", 3): if Event.isKnown(fields[1]), let time = Int(fields[2]) { lastStoredMsByEvent[fields[1]] = time }
            default: continue
            }
        }
    }
}
