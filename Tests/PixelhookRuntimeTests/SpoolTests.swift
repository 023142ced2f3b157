import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

@Suite struct SpoolTests {
    @Test func storesTheRawBodyOnceThenReportsDuplicates() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        let body = payload()
        let first = try spool.store(try delivery(body))
        let second = try spool.store(try delivery(body))
        #expect(first == .stored)
        #expect(second == .duplicate)
        let stored = try #require(FileManager.default.contents(atPath: spool.layout.payloadPath(try delivery(body).key)))
        #expect(Array(stored) == body)
    }

    @Test func leavesNoTemporaryFilesBehind() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        _ = try spool.store(try delivery(payload()))
        _ = try spool.store(try delivery(payload()))
        #expect(scratch.files(under: "spool/deliveries") == ["p1", "p1/u1", "p1/u1/.arrivals", "p1/u1/build.approved.json"])
    }

    @Test func differentEventsOfOneBuildAreDifferentDeliveries() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        #expect(try spool.store(try delivery(payload(event: "build.uploaded"))) == .stored)
        #expect(try spool.store(try delivery(payload(event: "build.approved"))) == .stored)
        #expect(try spool.store(try delivery(payload(event: "build.approved", uploadId: "u2"))) == .stored)
    }

    @Test func webhookTestIsNeverADuplicate() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        let body = payload(event: "webhook.test")
        #expect(try spool.store(try delivery(body, nonce: "a")) == .stored)
        #expect(try spool.store(try delivery(body, nonce: "b")) == .stored)
    }

    @Test func hostileUploadIdStaysInsideTheSpool() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        for hostile in ["../../x", "a/b", "..", "line\\nbreak", "nul\\u0000byte", String(repeating: "z", count: 10_000)] {
            #expect(try spool.store(try delivery(payload(uploadId: hostile))) == .stored)
        }
        let everything = scratch.files(under: "")
        #expect(everything.allSatisfy { $0.hasPrefix("spool") || $0 == "handlers" }, "\(everything)")
        let builds = try FileManager.default.contentsOfDirectory(atPath: scratch.spool + "/deliveries/p1")
        #expect(builds.count == 6)
        #expect(builds.allSatisfy { $0.hasPrefix("~") && $0.count == 65 })
    }

    @Test func storageFailureIsAnErrorNotACrash() throws {
        let scratch = try ScratchSpool()
        // A regular file where the spool should be: nothing can be created beneath it.
        try Data("x".utf8).write(to: URL(fileURLWithPath: scratch.spool))
        let spool = Spool(root: scratch.spool + "/inner")
        #expect(throws: StorageError.self) { try spool.store(try delivery(payload())) }
        #expect(spool.problem() != nil)
    }

    @Test func concurrentProcessesStoreExactlyOnce() async throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        let body = payload()
        let outcomes = await withTaskGroup(of: Spool.StoreOutcome?.self) { group in
            for _ in 0..<32 {
                group.addTask { try? spool.store(try delivery(body)) }
            }
            var all: [Spool.StoreOutcome?] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.filter { $0 == .stored }.count == 1)
        #expect(outcomes.filter { $0 == .duplicate }.count == 31)
    }
}
