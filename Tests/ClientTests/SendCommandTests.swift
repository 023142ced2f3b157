import Foundation
import PixelhookTestSupport
import PixelhookCore
import Testing

/// `pixelhook send` against a local HTTP server: what it posts, what it prints, how it exits.
@Suite(.timeLimit(.minutes(1)))
struct SendCommandTests {
    /// The seeds' field order with the given values, compact; written out here, not through
    /// `JSONObject`, so a bug there cannot hide here.
    static func expectedBody(_ fields: [(String, String?)]) -> String {
        func quoted(_ text: String?) -> String { text.map { "\"\($0)\"" } ?? "null" }
        return "{" + fields.map { "\"\($0.0)\":\(quoted($0.1))" }.joined(separator: ",") + "}"
    }

    /// The request's timestamp, checked to be ISO 8601 with milliseconds and Z, and recent.
    static func timestamp(of request: RecordingServer.Request) throws -> String {
        let timestamp = try #require(request.json?["timestamp"] as? String, "\(request.text)")
        #expect(Timestamp.isISO8601(timestamp), "\(timestamp)")
        #expect(timestamp.count == 24 && timestamp.hasSuffix("Z") && timestamp.dropFirst(19).hasPrefix("."), "\(timestamp)")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = try #require(formatter.date(from: timestamp))
        #expect(abs(date.timeIntervalSinceNow) < 60, "not now: \(timestamp)")
        return timestamp
    }

    @Test("no options: exactly the Test button's payload, 200 → exit 0 and the body printed")
    func testButton() throws {
        let server = try RecordingServer()
        let run = try Run.pixelhook(["send", server.url])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdoutLines == [#"webhook.test 200 {"received": true, "count": 1}"#], "\(run)")
        #expect(run.stderr.isEmpty, "\(run)")

        let requests = server.requests
        try #require(requests.count == 1)
        let request = requests[0]
        #expect(request.method == "POST" && request.path == "/hook")
        #expect(request.contentType == "application/json")
        let timestamp = try Self.timestamp(of: request)
        #expect(request.text == Self.expectedBody([
            ("event", "webhook.test"), ("projectId", "test_project_id"), ("uploadId", "test_upload_id"),
            ("fileUrl", "https://example.com/test-build.zip"), ("status", "test"), ("objection", nil),
            ("timestamp", timestamp),
        ]))
    }

    @Test("a build event: the seeds' status, fileUrl null on build.uploaded, project from PIXELHOOK_PROJECT_IDS", arguments: [
        ("build.uploaded", "pending"), ("build.downloading", "Downloading Files"), ("build.extracting", "Extracting & Scanning"),
        ("build.saving", "Saving to Repository"), ("build.distributing", "Distribute"), ("build.approved", "Approved"),
    ])
    func buildEvent(event: String, status: String) throws {
        let server = try RecordingServer()
        let run = try Run.pixelhook(["send", server.url, "--event", event, "--upload-id", "665a2b3c4d5e6f7a8b9c0e1f"],
                                    environment: Run.environment(["PIXELHOOK_PROJECT_IDS": "664f1a2b3c4d5e6f7a8b9c0d,other"]))
        #expect(run.status == 0, "\(run)")
        let request = try #require(server.requests.first)
        #expect(request.text == Self.expectedBody([
            ("event", event), ("projectId", "664f1a2b3c4d5e6f7a8b9c0d"), ("uploadId", "665a2b3c4d5e6f7a8b9c0e1f"),
            ("fileUrl", event == "build.uploaded" ? nil : "https://cdn.streampixel.io/builds/my-build.zip"),
            ("status", status), ("objection", nil), ("timestamp", try Self.timestamp(of: request)),
        ]))
        #expect(try EnvelopeParser.parse(Array(request.body)).event == event)
    }

    @Test("build.rejected carries --objection exactly: quotes, backslashes, newlines, non-ASCII")
    func rejectedObjection() throws {
        let server = try RecordingServer()
        let objection = "Missing \"Content/Paks\" \\ folder\nsecond line\té 東京 🚀 \u{1}"
        let run = try Run.pixelhook(["send", server.url, "--event", "build.rejected", "--project-id", "p1", "--objection", objection])
        #expect(run.status == 0, "\(run)")
        let json = try #require(server.requests.first?.json)
        #expect(json["objection"] as? String == objection)
        #expect(json["status"] as? String == "Reject")
        #expect(json["projectId"] as? String == "p1")
        let uploadId = try #require(json["uploadId"] as? String)
        #expect(uploadId.count == 24 && uploadId.allSatisfy(\.isHexDigit), "a new uploadId: \(uploadId)")
    }

    @Test("--status, --file-url and the ids override the defaults")
    func overrides() throws {
        let server = try RecordingServer()
        let run = try Run.pixelhook(["send", server.url, "--project-id", "mine", "--upload-id", "u1",
                                     "--status", "custom", "--file-url", "https://files.example/b.zip"])
        #expect(run.status == 0, "\(run)")
        let json = try #require(server.requests.first?.json)
        #expect(json["event"] as? String == "webhook.test")
        #expect(json["projectId"] as? String == "mine" && json["uploadId"] as? String == "u1")
        #expect(json["status"] as? String == "custom" && json["fileUrl"] as? String == "https://files.example/b.zip")
    }

    @Test("a 500 answer: the status and body printed, one line on stderr, exit 1")
    func serverError() throws {
        let server = try RecordingServer(status: 500)
        let run = try Run.pixelhook(["send", server.url + "?token=s3cret"])
        #expect(run.status == 1, "\(run)")
        #expect(run.stdoutLines == [#"webhook.test 500 {"received": true, "count": 1}"#], "\(run)")
        #expect(run.stderrLines.count == 1 && run.stderr.contains("500"), "\(run)")
        #expect(!run.stderr.contains("s3cret"), "the token must not be printed: \(run)")
    }

    @Test("nothing listening: one line on stderr, nothing on stdout, exit 1")
    func nothingListening() throws {
        let port = try unusedLocalPort()
        let run = try Run.pixelhook(["send", "http://127.0.0.1:\(port)/hook"])
        #expect(run.status == 1, "\(run)")
        #expect(run.stdout.isEmpty, "\(run)")
        #expect(run.stderrLines.count == 1, "\(run)")
        #expect(run.stderr.hasPrefix("pixelhook: ") && run.stderr.contains("connection refused"), "\(run)")
        #expect(run.seconds < 5, "a refused connection is not retried until the timeout: \(run.seconds) s")
    }

    @Test("no answer within --timeout: one line, exit 1, after about the timeout")
    func timeout() throws {
        let server = try RecordingServer(delay: 8)
        let run = try Run.pixelhook(["send", server.url, "--timeout", "1"])
        #expect(run.status == 1, "\(run)")
        #expect(run.stderrLines.count == 1 && run.stderr.contains("within 1 s"), "\(run)")
        #expect(run.seconds >= 0.9 && run.seconds < 5, "\(run.seconds) s")
    }
}
