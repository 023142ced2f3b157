import Foundation
import PixelhookTestSupport
import PixelhookCore
import Testing

/// `pixelhook simulate` against a local HTTP server recording the requests.
@Suite(.timeLimit(.minutes(1)))
struct SimulateCommandTests {
    static let stages = ["build.uploaded", "build.downloading", "build.extracting", "build.saving",
                         "build.distributing", "build.approved"]

    @Test("the whole pipeline in order, one new uploadId shared by all, each event shaped as the sender does")
    func fullPipeline() throws {
        let server = try RecordingServer()
        let run = try Run.pixelhook(["simulate", server.url, "--project-id", "664f1a2b3c4d5e6f7a8b9c0d"])
        #expect(run.status == 0, "\(run)")

        let bodies = server.requests.compactMap(\.json)
        #expect(bodies.map { $0["event"] as? String } == Self.stages)
        #expect(bodies.map { $0["status"] as? String } ==
                ["pending", "Downloading Files", "Extracting & Scanning", "Saving to Repository", "Distribute", "Approved"])
        let ids = Set(bodies.compactMap { $0["uploadId"] as? String })
        #expect(ids.count == 1, "one uploadId for the build: \(ids)")
        let id = try #require(ids.first)
        #expect(id.count == 24 && id.allSatisfy { "0123456789abcdef".contains($0) }, "\(id)")
        #expect(bodies.allSatisfy { $0["projectId"] as? String == "664f1a2b3c4d5e6f7a8b9c0d" })
        #expect(bodies.allSatisfy { $0["objection"] is NSNull })
        #expect(bodies.first?["fileUrl"] is NSNull)
        #expect(bodies.dropFirst().allSatisfy { $0["fileUrl"] as? String == "https://cdn.streampixel.io/builds/my-build.zip" })
        for request in server.requests {
            #expect(request.contentType == "application/json")
            let envelope = try EnvelopeParser.parse(Array(request.body))
            #expect(Timestamp.isISO8601(envelope.timestamp))
        }
        let timestamps = bodies.compactMap { $0["timestamp"] as? String }
        #expect(timestamps == timestamps.sorted(), "stamped as sent: \(timestamps)")

        // The build first, then one line per event: event, status, body.
        #expect(run.stdoutLines.first == "build \(id) of project 664f1a2b3c4d5e6f7a8b9c0d", "\(run)")
        #expect(run.stdoutLines.dropFirst().map { $0.split(separator: " ").prefix(2).joined(separator: " ") }
                == Self.stages.map { "\($0) 200" }, "\(run)")
        #expect(run.stdoutLines.last?.hasSuffix(#"{"received": true, "count": 6}"#) == true, "\(run)")

        // A second run is a new build.
        let again = try Run.pixelhook(["simulate", server.url, "--project-id", "p"])
        #expect(again.status == 0, "\(again)")
        let second = Set(server.requests.dropFirst(6).compactMap { $0.json?["uploadId"] as? String })
        #expect(second.count == 1 && second != ids, "\(second) vs \(ids)")
    }

    @Test("--reject-at extracting: the stages through build.extracting, then build.rejected with the objection, nothing later",
          arguments: ["extracting", "build.extracting"])
    func rejectAtExtracting(stage: String) throws {
        let server = try RecordingServer()
        let objection = "Pak \"Game.pak\" missing\\broken\nsee log é 🚀"
        let run = try Run.pixelhook(["simulate", server.url, "--project-id", "p", "--upload-id", "u-7",
                                     "--reject-at", stage, "--objection", objection])
        #expect(run.status == 0, "\(run)")
        let bodies = server.requests.compactMap(\.json)
        #expect(bodies.map { $0["event"] as? String } ==
                ["build.uploaded", "build.downloading", "build.extracting", "build.rejected"])
        #expect(bodies.last?["status"] as? String == "Reject")
        #expect(bodies.last?["objection"] as? String == objection)
        #expect(bodies.dropLast().allSatisfy { $0["objection"] is NSNull })
        #expect(bodies.allSatisfy { $0["uploadId"] as? String == "u-7" })
        #expect(run.stdoutLines.count == 5, "\(run)")
    }

    @Test("stops at the first answer that is not 2xx: nothing after it is sent, exit 1, one line on stderr")
    func stopsAtFirstFailure() throws {
        let server = try RecordingServer(failEvent: "build.extracting")
        let run = try Run.pixelhook(["simulate", server.url, "--project-id", "p"])
        #expect(run.status == 1, "\(run)")
        #expect(server.requests.compactMap { $0.json?["event"] as? String } ==
                ["build.uploaded", "build.downloading", "build.extracting"])
        #expect(run.stdoutLines.last?.hasPrefix("build.extracting 500 ") == true, "\(run)")
        #expect(run.stderrLines.count == 1 && run.stderr.contains("build.extracting"), "\(run)")
    }

    @Test("the project defaults to the first of PIXELHOOK_PROJECT_IDS, as written")
    func projectFromSettings() throws {
        let server = try RecordingServer()
        let run = try Run.pixelhook(["simulate", server.url, "--reject-at", "uploaded", "--objection", "no"],
                                    environment: Run.environment(["PIXELHOOK_PROJECT_IDS": " zeta , alpha"]))
        #expect(run.status == 0, "\(run)")
        #expect(server.requests.compactMap { $0.json?["projectId"] as? String } == ["zeta", "zeta"])
    }

    @Test("--interval waits between events")
    func interval() throws {
        let server = try RecordingServer()
        let run = try Run.pixelhook(["simulate", server.url, "--project-id", "p", "--reject-at", "downloading",
                                     "--objection", "x", "--interval", "300"])
        #expect(run.status == 0, "\(run)")
        #expect(server.requests.count == 3)
        #expect(run.seconds >= 0.6, "two pauses of 300 ms: \(run.seconds) s")
    }

    @Test("nothing listening: one line, exit 1, nothing posted after")
    func nothingListening() throws {
        let run = try Run.pixelhook(["simulate", "http://127.0.0.1:\(try unusedLocalPort())/hook", "--project-id", "p"])
        #expect(run.status == 1, "\(run)")
        #expect(run.stderrLines.count == 1 && run.stderr.contains("build.uploaded"), "\(run)")
        #expect(run.stdoutLines.count == 1, "only the build line: \(run)")
    }
}
