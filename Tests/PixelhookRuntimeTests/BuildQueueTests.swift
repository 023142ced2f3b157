import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

@Suite struct BuildQueueTests {
    @Test func runsPendingDeliveriesInArrivalOrderAndRecordsResults() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", #"echo "$PIXELHOOK_EVENT" >> ../order"#)
        let settings = scratch.settings()
        let spool = Spool(root: settings.spool)
        let events = ["build.uploaded", "build.downloading", "build.extracting", "build.rejected"]
        var last: DeliveryKey?
        for event in events {
            let stored = try delivery(payload(event: event))
            _ = try spool.store(stored)
            last = stored.key
        }
        let results = try BuildQueue(settings: settings, key: try #require(last)).drain()
        #expect(results.count == 4)
        #expect(results.values.allSatisfy { $0.state == .done })
        #expect(scratch.read("order")?.split(separator: "\n").map(String.init) == events)
        // A second drain finds nothing left to do.
        #expect(try BuildQueue(settings: settings, key: try #require(last)).drain().isEmpty)
    }

    @Test func picksTheEventHandlerBeforeDefault() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", "exit 3")
        try scratch.handler("build.approved", "exit 75")
        let settings = scratch.settings()
        let approved = try delivery(payload(event: "build.approved"))
        let saving = try delivery(payload(event: "build.saving"))
        _ = try Spool(root: settings.spool).store(approved)
        _ = try Spool(root: settings.spool).store(saving)
        let results = try BuildQueue(settings: settings, key: approved.key).drain()
        #expect(results[SpoolLayout.payloadName(event: "build.approved")]?.state == .retry)
        #expect(results[SpoolLayout.payloadName(event: "build.saving")]?.state == .failed)
        #expect(results[SpoolLayout.payloadName(event: "build.saving")]?.exitCode == 3)
    }

    @Test func noHandlerIsDoneAndAnUnrunnableOneFails() throws {
        let scratch = try ScratchSpool()
        let settings = scratch.settings()
        let first = try delivery(payload(event: "build.uploaded"))
        _ = try Spool(root: settings.spool).store(first)
        #expect(try BuildQueue(settings: settings, key: first.key).drain()[SpoolLayout.payloadName(event: "build.uploaded")]?.state == .done)

        try FileManager.default.createDirectory(atPath: scratch.handlers + "/build.saving", withIntermediateDirectories: true)
        try Data("#!/bin/sh\n".utf8).write(to: URL(fileURLWithPath: scratch.handlers + "/build.approved"))
        for event in ["build.saving", "build.approved"] {
            let stored = try delivery(payload(event: event))
            _ = try Spool(root: settings.spool).store(stored)
            let result = try BuildQueue(settings: settings, key: stored.key).drain()[SpoolLayout.payloadName(event: event)]
            #expect(result?.state == .failed)
            #expect(result?.detail?.contains(event) == true)
        }
    }

    @Test func resultAndOutputAreKeptInTheSpool() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", "echo hello from $PIXELHOOK_DELIVERY; exit 2")
        let settings = scratch.settings()
        let stored = try delivery(payload())
        _ = try Spool(root: settings.spool).store(stored)
        try BuildQueue(settings: settings, key: stored.key).drain()
        let files = StoredDelivery(directory: ScratchSpool.spoolFiles.buildDirectory(stored.key), event: "build.approved")
        #expect(scratch.read(files.outputPath) == "hello from p1/u1/build.approved\n")
        let result = try #require(scratch.read(files.resultPath))
        #expect(HandlerResult.state(ofStored: result) == .failed)
        #expect(result.contains("\"exitCode\":2"))
    }

    @Test func aSilentHandlerLeavesNoOutputFileNorAnOlderRunsOutput() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", "exit 0")
        let settings = scratch.settings()
        let stored = try delivery(payload())
        _ = try Spool(root: settings.spool).store(stored)
        let files = StoredDelivery(directory: ScratchSpool.spoolFiles.buildDirectory(stored.key), event: "build.approved")
        try "from an older run\n".write(toFile: scratch.root + "/" + files.outputPath, atomically: false, encoding: .utf8)
        try BuildQueue(settings: settings, key: stored.key).drain()
        #expect(HandlerResult.state(ofStored: scratch.read(files.resultPath) ?? "") == .done)
        #expect(scratch.read(files.outputPath) == nil)
    }

    @Test func globalCapHoldsAcrossConcurrentBuilds() async throws {
        let scratch = try ScratchSpool()
        // Each run records how many handlers are running at its start, using a lock-free
        // counter directory: one file per running handler.
        try FileManager.default.createDirectory(atPath: scratch.root + "/running", withIntermediateDirectories: true)
        try scratch.handler("default", """
            touch ../running/$$; ls ../running | wc -l >> ../peaks; sleep 0.3; rm ../running/$$
            """)
        let settings = scratch.settings(maxHandlers: 2)
        var keys: [DeliveryKey] = []
        for build in 0..<6 {
            let stored = try delivery(payload(uploadId: "b\(build)"))
            _ = try Spool(root: settings.spool).store(stored)
            keys.append(stored.key)
        }
        await withTaskGroup(of: Void.self) { group in
            for key in keys { group.addTask { _ = try? BuildQueue(settings: settings, key: key).drain() } }
        }
        let peaks = try #require(scratch.read("peaks")).split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        #expect(peaks.count == 6)
        #expect(peaks.allSatisfy { $0 <= 2 }, "\(peaks)")
    }
}
