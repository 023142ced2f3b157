import Testing
@testable import PixelhookCore

@Suite("Pipeline")
struct PipelineTests {
    @Test("the stages and their status strings are the sender's, in pipeline order")
    func stagesAndStatuses() {
        #expect(Pipeline.stages.map(\.event) == [
            "build.uploaded", "build.downloading", "build.extracting", "build.saving",
            "build.distributing", "build.approved",
        ])
        #expect(Pipeline.stages.map(\.status) == [
            "pending", "Downloading Files", "Extracting & Scanning", "Saving to Repository",
            "Distribute", "Approved",
        ])
        #expect(Pipeline.rejected == Pipeline.Stage(event: "build.rejected", status: "Reject"))
        #expect(Pipeline.test == Pipeline.Stage(event: "webhook.test", status: "test"))
    }

    @Test("the stages agree with Event's list of known events")
    func agreesWithEvent() {
        #expect(Pipeline.stages.map(\.event) + [Pipeline.rejected.event] == Event.pipeline)
        #expect(Pipeline.test.event == Event.test)
    }

    @Test("status(of:) for every documented event, nil for others", arguments: [
        ("build.uploaded", "pending"),
        ("build.downloading", "Downloading Files"),
        ("build.extracting", "Extracting & Scanning"),
        ("build.saving", "Saving to Repository"),
        ("build.distributing", "Distribute"),
        ("build.approved", "Approved"),
        ("build.rejected", "Reject"),
        ("webhook.test", "test"),
    ])
    func status(event: String, status: String) {
        #expect(Pipeline.status(of: event) == status)
    }

    @Test("an undocumented event has no status", arguments: ["build.queued", "", "uploaded", "BUILD.UPLOADED"])
    func unknownStatus(event: String) {
        #expect(Pipeline.status(of: event) == nil)
        #expect(Pipeline.stage(ofEvent: event) == nil)
    }

    @Test("a full run is the six stages ending with build.approved, no rejection")
    func fullRun() {
        #expect(Pipeline.run() == Pipeline.stages)
        #expect(!Pipeline.run().contains(Pipeline.rejected))
        #expect(Pipeline.run().last?.event == "build.approved")
    }

    @Test("rejecting at a stage keeps the stages through it, then build.rejected, nothing after", arguments: [
        ("uploaded", ["build.uploaded", "build.rejected"]),
        ("downloading", ["build.uploaded", "build.downloading", "build.rejected"]),
        ("extracting", ["build.uploaded", "build.downloading", "build.extracting", "build.rejected"]),
        ("build.saving", ["build.uploaded", "build.downloading", "build.extracting", "build.saving", "build.rejected"]),
        ("Distributing", ["build.uploaded", "build.downloading", "build.extracting", "build.saving",
                          "build.distributing", "build.rejected"]),
    ])
    func rejectAt(name: String, expected: [String]) throws {
        let stage = try #require(Pipeline.stage(named: name))
        #expect(Pipeline.run(rejectingAt: stage).map(\.event) == expected)
    }

    @Test("only the stages before approval can be rejected at", arguments: [
        "approved", "build.approved", "rejected", "build.rejected", "webhook.test", "test", "nowhere", "", "build.",
        " extracting", "extract",
    ])
    func notRejectable(name: String) {
        #expect(Pipeline.stage(named: name) == nil)
    }

    @Test("a stage that cannot be rejected at rejects nothing")
    func approvedRejectsNothing() {
        #expect(Pipeline.run(rejectingAt: Pipeline.stages.last) == Pipeline.stages)
        #expect(Pipeline.run(rejectingAt: Pipeline.rejected) == Pipeline.stages)
    }

    @Test("a stage's name is its event without build.")
    func names() {
        #expect(Pipeline.rejectable.map(\.name) == ["uploaded", "downloading", "extracting", "saving", "distributing"])
        #expect(Pipeline.test.name == "webhook.test")
    }
}
