import Testing
@testable import PixelhookCore

@Suite("EventFactory")
struct EventFactoryTests {
    /// The JSON of `envelope` as raw text.
    private func text(_ envelope: Envelope) -> String { envelope.json.description }

    @Test("a build event is the sender's example, byte for byte (compact), fields in its order")
    func approvedMatchesTheSeed() {
        let envelope = EventFactory.envelope(
            Pipeline.stages[5], projectId: Fixture.projectId, uploadId: Fixture.uploadId,
            timestamp: Fixture.timestamp)
        #expect(envelope.json.bytes == Fixture.object(Fixture.approvedFields))
        #expect(text(envelope) == """
            {"event":"build.approved","projectId":"664f1a2b3c4d5e6f7a8b9c0d","uploadId":"665a2b3c4d5e6f7a8b9c0e1f",\
            "fileUrl":"https://cdn.streampixel.io/builds/my-build.zip","status":"Approved","objection":null,\
            "timestamp":"2026-03-29T14:30:00.000Z"}
            """)
    }

    @Test("the seven fields, always, in the seeds' order", arguments: Pipeline.stages + [Pipeline.rejected, Pipeline.test])
    func fieldOrder(stage: Pipeline.Stage) throws {
        let body = text(EventFactory.envelope(stage, projectId: "p", uploadId: nil, timestamp: Fixture.timestamp))
        let names = ["event", "projectId", "uploadId", "fileUrl", "status", "objection", "timestamp"]
        let positions = try names.map { name in
            try #require(body.range(of: "\"\(name)\":")?.lowerBound, "\(name) missing in \(body)")
        }
        #expect(positions == positions.sorted(), "\(body)")
        #expect(body.hasPrefix("{\"event\":") && body.hasSuffix("\"timestamp\":\"\(Fixture.timestamp)\"}"), "\(body)")
        #expect(body.contains("\"uploadId\":null,"), "null written out, not left out: \(body)")
    }

    @Test("build.uploaded has fileUrl null; the other stages the file; status per stage")
    func uploadedHasNoFile() {
        for stage in Pipeline.stages + [Pipeline.rejected] {
            let envelope = EventFactory.envelope(stage, projectId: "p", uploadId: "u", fileUrl: "https://x/b.zip", timestamp: Fixture.timestamp)
            #expect(envelope.fileUrl == (stage.event == "build.uploaded" ? nil : "https://x/b.zip"), "\(stage)")
            #expect(envelope.status == Pipeline.status(of: stage.event), "\(stage)")
            #expect(envelope.event == stage.event)
        }
        #expect(text(EventFactory.envelope(Pipeline.stages[0], projectId: "p", uploadId: "u", timestamp: Fixture.timestamp))
            .contains("\"fileUrl\":null,\"status\":\"pending\""))
    }

    @Test("only build.rejected carries an objection, escaped as JSON")
    func objectionOnlyWhenRejected() throws {
        let reason = "Missing \"Content/Paks\"\\ folder\nline two \u{e9}\u{6771}\u{1F680}\t\u{1}"
        let rejected = EventFactory.envelope(Pipeline.rejected, projectId: "p", uploadId: "u", objection: reason, timestamp: Fixture.timestamp)
        #expect(rejected.objection == reason)
        #expect(rejected.status == "Reject")
        #expect(text(rejected).contains(#""objection":"Missing \"Content/Paks\"\\ folder\nline two é東🚀\t\u0001""#), "\(text(rejected))")
        // What pixelhook itself reads back is the same envelope.
        #expect(try EnvelopeParser.parse(rejected.json.bytes) == rejected)

        let defaulted = EventFactory.envelope(Pipeline.rejected, projectId: "p", uploadId: "u", timestamp: Fixture.timestamp)
        #expect(defaulted.objection == EventFactory.exampleObjection)
        #expect(EventFactory.exampleObjection == "Build contains unsupported file formats.")

        for stage in Pipeline.stages + [Pipeline.test] {
            let other = EventFactory.envelope(stage, projectId: "p", uploadId: "u", objection: reason, timestamp: Fixture.timestamp)
            #expect(other.objection == nil, "\(stage)")
            #expect(text(other).contains("\"objection\":null"), "\(stage)")
        }
    }

    @Test("the Test button's payload: placeholders, status test, example file")
    func testButton() throws {
        let envelope = EventFactory.test(timestamp: "2026-03-29T14:30:00.000Z")
        #expect(text(envelope) == """
            {"event":"webhook.test","projectId":"test_project_id","uploadId":"test_upload_id",\
            "fileUrl":"https://example.com/test-build.zip","status":"test","objection":null,\
            "timestamp":"2026-03-29T14:30:00.000Z"}
            """)
        #expect(try EnvelopeParser.parse(envelope.json.bytes) == envelope)
    }

    @Test("every payload parses back through pixelhook's own parser, timestamp included", arguments: Pipeline.stages + [Pipeline.rejected, Pipeline.test])
    func roundTrip(stage: Pipeline.Stage) throws {
        let envelope = EventFactory.envelope(stage, projectId: Fixture.projectId, uploadId: EventFactory.newUploadID(),
                                             timestamp: "2026-11-22T23:10:05.042Z")
        let parsed = try EnvelopeParser.parse(envelope.json.bytes)
        #expect(parsed == envelope)
        #expect(Timestamp.isISO8601(parsed.timestamp))
    }

    @Test("new uploadIds are 24 lowercase hex digits, like the sender's, and differ")
    func uploadIDs() {
        let ids = (0..<200).map { _ in EventFactory.newUploadID() }
        for id in ids {
            #expect(id.count == 24 && id.allSatisfy { "0123456789abcdef".contains($0) }, "\(id)")
        }
        #expect(Set(ids).count == ids.count)
        // Every digit shows up: the generator's bits are used, not a constant.
        #expect(Set(ids.joined()).count == 16)
    }

    @Test("a seeded generator gives a repeatable id")
    func seededUploadID() {
        struct Counting: RandomNumberGenerator {
            var value: UInt64 = 0
            mutating func next() -> UInt64 { defer { value += 1 }; return value }
        }
        var generator = Counting()
        #expect(EventFactory.newUploadID(using: &generator) == "0123456789abcdef01234567")
    }
}
