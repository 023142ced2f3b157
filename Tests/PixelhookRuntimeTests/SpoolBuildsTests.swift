import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

@Suite struct SpoolBuildsTests {
    @Test func readsEveryBuildWithItsDeliveriesInArrivalOrder() throws {
        let scratch = try Scratch()
        try scratch.handler("build.approved", "exit 3")
        let settings = scratch.settings()
        let spool = Spool(root: settings.spool)
        for (event, upload) in [("build.uploaded", "u1"), ("build.approved", "u1"), ("build.uploaded", "u2")] {
            _ = try spool.store(try delivery(payload(event: event, uploadId: upload)))
        }
        _ = try spool.store(try delivery(payload(event: "webhook.test", uploadId: nil, project: "test_project_id"), nonce: "n9"))
        try BuildQueue(settings: settings, key: try delivery(payload(uploadId: "u1")).key).drain()

        let builds = try spool.storedBuilds()
        #expect(builds.map(\.id.description) == ["p1/u1", "p1/u2", "test_project_id/~none"])
        let u1 = builds[0]
        #expect(u1.entries.map(\.name) == ["build.uploaded", "build.approved"])
        #expect(u1.entries.map { $0.result?.state } == [.done, .failed])
        #expect(u1.entries[1].result?.exitCode == 3)
        #expect(u1.entries[0].body == payload(event: "build.uploaded", uploadId: "u1"))
        #expect(abs(u1.entries[0].receivedAt - Clock.milliseconds()) < 60_000)
        #expect(!u1.isLocked)
        #expect(builds[1].entries.map { $0.result } == [nil])
        #expect(builds[2].entries.map(\.name) == ["webhook.test~n9"])

        #expect(try spool.storedBuilds(projectId: "p1").count == 2)
        #expect(try spool.storedBuilds(projectId: "nobody").isEmpty)
        #expect(try Spool(root: scratch.root + "/no-spool").storedBuilds().isEmpty)
    }
}
