import Foundation
import Testing

/// Accepted deliveries through each real web server: stored once, answered 200, handler run once.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct DeliveryTests {
    @Test("The sender's four example payloads are stored and run their handlers", arguments: Gateway.allCases)
    func seedExamples(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        for (event, _) in Payloads.seeds { try server.writeRecorder(named: event) }

        for (event, body) in Payloads.seeds {
            let reply = try server.post(Data(body.utf8))
            #expect(reply.status == 200, "\(event): \(reply)")
            #expect(reply.contentType == "application/json")
            #expect(reply.json == ["received": true, "event": .string(event), "duplicate": false], "\(reply)")
        }

        let results = try server.waitForHandlers(count: 4)
        #expect(results.count == 4)
        #expect(results.values.allSatisfy { $0["state"] == "done" }, "\(results)")
        #expect(server.runs.map { String($0.split(separator: " ")[0]) }.sorted() == Payloads.seeds.map(\.event).sorted())
        #expect(server.storedDeliveries.contains("\(WebServerFixture.projectID)/665a2b3c4d5e6f7a8b9c0e1f/build.approved"))
    }

    @Test("A duplicate is answered duplicate:true and does not run the handler again", arguments: Gateway.allCases)
    func duplicate(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try server.writeRecorder(named: "default")
        let body = Payloads.seed("build.approved")

        let first = try server.post(body)
        #expect(first.status == 200)
        #expect(first.json == ["received": true, "event": "build.approved", "duplicate": false], "\(first)")
        try server.waitForHandlers(count: 1)

        let second = try server.post(body)
        #expect(second.status == 200)
        #expect(second.contentType == "application/json")
        #expect(second.json == ["received": true, "event": "build.approved", "duplicate": true], "\(second)")

        try server.waitForHandlers(count: 1)
        #expect(server.runs.count == 1, "\(server.runs)")
    }

    @Test("40 concurrent identical deliveries: one stored, one handler run", arguments: Gateway.allCases)
    func concurrentIdenticalDeliveries(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try server.writeRecorder(named: "default")
        let body = Payloads.event("build.approved", uploadId: "race-1", status: "Approved")

        let inFlight = try (0..<40).map { _ in try server.startRequest("POST", body: body) }
        let replies = try inFlight.map { try $0.wait() }

        #expect(replies.allSatisfy { $0.status == 200 }, "\(replies.filter { $0.status != 200 })")
        #expect(replies.allSatisfy { $0.contentType == "application/json" })
        let fresh = replies.filter { $0.json?["duplicate"] == false }
        let duplicates = replies.filter { $0.json?["duplicate"] == true }
        #expect(fresh.count == 1, "\(replies.map(\.text))")
        #expect(duplicates.count == 39)

        try server.waitForHandlers(count: 1)
        #expect(server.runs == ["build.approved \(WebServerFixture.projectID)/race-1/build.approved"])
    }

    /// SPEC "One request" 9-10: a 200 means stored, and the handler runs after the response.
    /// Twenty separate builds, so that a runner lost after the response shows as a missing result.
    @Test("Every acknowledged delivery gets its handler run", arguments: Gateway.allCases)
    func everyAcknowledgedDeliveryRuns(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try server.writeRecorder(named: "default")
        let ids = (1...20).map { "each-\($0)" }
        for id in ids {
            let reply = try server.post(Payloads.event("build.uploaded", uploadId: id))
            #expect(reply.status == 200, "\(id): \(reply)")
        }
        let results = try server.waitForHandlers(count: ids.count, timeout: 20)
        #expect(results.count == ids.count)
        #expect(server.runs.count == ids.count, "\(server.runs)")
    }

    @Test("An unknown event is answered 200 and logged, not stored, no handler", arguments: Gateway.allCases)
    func unknownEvent(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try server.writeRecorder(named: "default")

        let reply = try server.post(Payloads.event("build.exploded", uploadId: "odd-1"))
        #expect(reply.status == 200, "\(reply)")
        #expect(reply.contentType == "application/json")
        #expect(reply.json?["received"] == true, "\(reply)")
        #expect(reply.json?["event"] == "build.exploded")

        let logged = server.requestLog.filter { $0["event"] == "build.exploded" }
        #expect(logged.count == 1, "\(server.requestLog)")
        #expect(logged.first?["status"] == 200)
        #expect(logged.first?["uploadId"] == "odd-1")

        // A delivery after it: once its handler has run, the unknown event's would have too.
        #expect(try server.post(Payloads.event("build.uploaded", uploadId: "after-1")).status == 200)
        try server.waitForHandlers(count: 1)
        #expect(server.storedDeliveries == ["\(WebServerFixture.projectID)/after-1/build.uploaded"])
        #expect(server.runs == ["build.uploaded \(WebServerFixture.projectID)/after-1/build.uploaded"])
    }
}
