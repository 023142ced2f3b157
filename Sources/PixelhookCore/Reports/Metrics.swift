/// What `GET ?view=metrics` and `pixelhook metrics` expose, gathered by
/// `PixelhookRuntime.SpoolMetrics`, written here in the Prometheus text format 0.0.4 so the
/// format is testable without a spool.
public struct Metrics: Sendable, Equatable {
    public var log: RequestLogTally
    /// The deliveries not done (read from `SPOOL/pending/` and `SPOOL/unfinished/`); `done`
    /// is filled in by `exposition` from the stored total.
    public var handlers: HandlerStateCount
    /// When the oldest delivery still waiting for its handler (pending, running, retry,
    /// failed) was stored, milliseconds; nil when there is none.
    public var oldestWaitingMs: Int?
    /// The time of the scrape, milliseconds.
    public var now: Int

    public init(log: RequestLogTally, handlers: HandlerStateCount, oldestWaitingMs: Int?, now: Int) {
        self.log = log
        self.handlers = handlers
        self.oldestWaitingMs = oldestWaitingMs
        self.now = now
    }

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The exposition text, every family with its HELP and TYPE lines.
    public var exposition: String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        func label(_ name: String, _ value: String) -> String { "{\(name)=\"\(Metrics.escaped(value))\"}" }
        func seconds(_ milliseconds: Int?) -> String { Metrics.seconds(milliseconds ?? 0) }

        family("pixelhook_requests_total", "counter", "Requests answered, by HTTP status code (from the request log).",
               log.requestsByCode.sorted { $0.key < $1.key }.map { (label("code", String($0.key)), String($0.value)) })
        family("pixelhook_deliveries_total", "counter", "Deliveries stored, by event.",
               Event.known.sorted().map { (label("event", $0), String(log.deliveriesByEvent[$0] ?? 0)) })
        family("pixelhook_refused_total", "counter",
               "Deliveries not stored, by reason: the refusal's error code, or event_filtered / unknown_event for an ignored event.",
               Set(RequestLogTally.refusalReasons).union(log.refusedByReason.keys).sorted()
                   .map { (label("reason", $0), String(log.refusedByReason[$0] ?? 0)) })

        var states = handlers
        let notDone = HandlerStateCount.State.allCases.filter { $0 != .done }.reduce(0) { $0 + states[$1] }
        states[.done] = max(0, log.storedDeliveries - notDone)
        family("pixelhook_handler_results", "gauge",
               "Stored deliveries by handler state (done: stored per the request log less those in another state).",
               HandlerStateCount.State.allCases.map { (label("state", $0.rawValue), String(states[$0])) })

        family("pixelhook_last_delivery_timestamp_seconds", "gauge",
               "When the last delivery other than webhook.test was stored (0: none yet).", [("", seconds(log.lastDeliveryMs))])
        family("pixelhook_last_test_timestamp_seconds", "gauge",
               "When the last webhook.test was accepted: a canary, alert when it is old (0: none yet).", [("", seconds(log.lastTestMs))])
        family("pixelhook_oldest_pending_seconds", "gauge",
               "Age of the oldest delivery whose handler has not succeeded yet (0: none).",
               [("", Metrics.seconds(oldestWaitingMs.map { max(0, now - $0) } ?? 0))])
        family("pixelhook_last_event_timestamp_seconds", "gauge",
               "When each event was last stored: the latest build's stage times.",
               log.lastStoredMsByEvent.sorted { $0.key < $1.key }.map { (label("event", $0.key), Metrics.seconds($0.value)) })
        return out
    }

    /// Milliseconds as seconds with three decimals: `1764870000.250`.
    static func seconds(_ milliseconds: Int) -> String {
        let whole = milliseconds / 1000, fraction = abs(milliseconds % 1000)
        let digits = String(fraction)
        return "\(whole).\(String(repeating: "0", count: 3 - digits.count))\(digits)"
    }

    /// A label value as the text format wants it: `\`, `"` and newline escaped.
    public static func escaped(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
