import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

@Suite struct SpoolBuildsTests {
    @Test func readsEveryBuildWithItsDeliveriesInArrivalOrder() throws {
        let scratch = try ScratchSpool()
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

    func build(_ name: String, lastReceivedAt: Int) -> StoredBuild {
        StoredBuild(id: BuildID(project: "p1", build: name), isLocked: false,
                    entries: [StoredBuild.Entry(name: "build.approved", body: [], receivedAt: lastReceivedAt, result: nil)])
    }

    /// Issue #12 item 13: `builds --limit 1` read every result of every build (50,000 builds:
    /// 17 s). It now reads builds newest directory first and stops once no build left can be
    /// newer: counted here through the reader, over 1,000 builds.
    @Test func theNewestBuildsAreReadWithoutReadingTheRest() throws {
        let modified = (0..<1000).map { (BuildID(project: "p1", build: "u\($0)"), 1_000_000 + 60_000 * $0) }
        var read: [String] = []
        let newest = try Spool.newestBuilds(modified, limit: 2) { id in
            read.append(id.build)
            return build(id.build, lastReceivedAt: 1_000_000 + 60_000 * Int(id.build.dropFirst())! - 5)
        }
        #expect(read == ["u999", "u998"])
        #expect(BuildReport.rows(newest, now: 0, stalledAfterSeconds: 3600, limit: 2).map(\.uploadId) == ["u999", "u998"])

        // A directory changed late (a result rewritten by `retry`) whose deliveries are old is
        // read, and the build received last is still found after it.
        let late = [(BuildID(project: "p1", build: "old"), 9_000), (BuildID(project: "p1", build: "new"), 8_000),
                    (BuildID(project: "p1", build: "older"), 100)]
        read = []
        let found = try Spool.newestBuilds(late, limit: 1) { id in
            read.append(id.build)
            return build(id.build, lastReceivedAt: ["old": 50, "new": 7_999, "older": 90][id.build]!)
        }
        #expect(read == ["old", "new"])
        #expect(BuildReport.rows(found, now: 0, stalledAfterSeconds: 3600, limit: 1).map(\.uploadId) == ["new"])
    }
}
