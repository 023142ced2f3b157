import Testing
@testable import PixelhookCore

/// The request-log tally and the Prometheus text it becomes.
@Suite("Metrics text")
struct MetricsTextTests {
    static func line(_ status: Int, _ outcome: String, event: String? = nil, method: String = "POST",
                     time: String = "2026-03-29T12:30:00.250Z") -> [UInt8] {
        let envelope = event.map { Envelope(event: $0, projectId: "p", uploadId: "u", fileUrl: nil, status: "s", objection: nil, timestamp: time) }
        return Array(RequestRecord(time: time, remoteAddress: "1.2.3.4", method: method, status: status,
                                   envelope: envelope, outcome: outcome).line.utf8.dropLast())
    }

    static var sample: RequestLogTally {
        var tally = RequestLogTally()
        tally.add(line: line(200, "stored", event: "build.uploaded", time: "2026-03-29T12:30:00.250Z"))
        tally.add(line: line(200, "stored", event: "build.approved", time: "2026-03-29T12:40:00.000Z"))
        tally.add(line: line(200, "duplicate", event: "build.approved"))
        tally.add(line: line(200, "stored", event: "webhook.test", time: "2026-03-29T12:45:00.000Z"))
        tally.add(line: line(200, "test coalesced", event: "webhook.test", time: "2026-03-29T12:46:00.000Z"))
        tally.add(line: line(403, "unknown_project: projectId x is not in PIXELHOOK_PROJECT_IDS", event: "build.approved"))
        tally.add(line: line(200, "ignored: event not in PIXELHOOK_EVENTS", event: "build.saving"))
        tally.add(line: line(401, "unauthorized: wrong read token", method: "GET"))
        tally.add(line: line(200, "health", method: "GET"))
        tally.add(line: Array("not json".utf8))
        return tally
    }

    @Test("requests by code, stored deliveries by event, refusals by reason, last times")
    func tally() {
        let tally = Self.sample
        #expect(tally.requestsByCode == [200: 7, 403: 1, 401: 1])
        #expect(tally.deliveriesByEvent == ["build.uploaded": 1, "build.approved": 1, "webhook.test": 1])
        #expect(tally.refusedByReason == ["unknown_project": 1, "event_filtered": 1])  // a GET's 401 is no lost delivery
        #expect(tally.lastDeliveryMs == 1_774_788_000_000)
        #expect(tally.lastTestMs == 1_774_788_360_000)
        #expect(tally.lastStoredMsByEvent["build.uploaded"] == 1_774_787_400_250)
    }

    @Test("the checkpoint form reads back to the same tally")
    func checkpointRoundTrip() {
        #expect(RequestLogTally(text: Self.sample.text) == Self.sample)
        #expect(RequestLogTally(text: "garbage\nrequests\tx\t1\n") == RequestLogTally())
    }

    @Test("exposition: HELP and TYPE for each family, every state and event present, done from the stored total")
    func exposition() {
        var handlers = HandlerStateCount()
        handlers[.failed] = 1
        handlers[.running] = 1
        let text = Metrics(log: Self.sample, handlers: handlers, oldestWaitingMs: 1_774_787_400_250, now: 1_774_787_410_500).exposition
        let lines = text.split(separator: "\n").map(String.init)
        for family in ["pixelhook_requests_total", "pixelhook_deliveries_total", "pixelhook_refused_total",
                       "pixelhook_handler_results", "pixelhook_last_delivery_timestamp_seconds",
                       "pixelhook_last_test_timestamp_seconds", "pixelhook_oldest_pending_seconds"] {
            #expect(lines.contains { $0.hasPrefix("# HELP \(family) ") }, "\(family)")
            #expect(lines.contains { $0.hasPrefix("# TYPE \(family) ") }, "\(family)")
        }
        #expect(lines.contains(#"pixelhook_requests_total{code="200"} 7"#))
        #expect(lines.contains(#"pixelhook_deliveries_total{event="build.approved"} 1"#))
        #expect(lines.contains(#"pixelhook_deliveries_total{event="build.saving"} 0"#))
        #expect(lines.contains(#"pixelhook_refused_total{reason="unknown_project"} 1"#))
        #expect(lines.contains(#"pixelhook_refused_total{reason="storage"} 0"#))
        #expect(lines.contains(#"pixelhook_handler_results{state="done"} 1"#))  // 3 stored - failed - running
        #expect(lines.contains(#"pixelhook_handler_results{state="gave_up"} 0"#))
        #expect(lines.contains("pixelhook_last_delivery_timestamp_seconds 1774788000.000"))
        #expect(lines.contains("pixelhook_oldest_pending_seconds 10.250"))
    }

    @Test("label values are escaped")
    func escaping() {
        #expect(Metrics.escaped("a\"b\\c\nd") == #"a\"b\\c\nd"#)
    }
}
