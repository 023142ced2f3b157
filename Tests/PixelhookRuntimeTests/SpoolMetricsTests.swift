import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

/// The metrics' cost stays bounded as the request log grows: each scrape reads only what was
/// written since the last (`SPOOL/metrics.checkpoint`), across rotation and truncation; and
/// the handler states come from the builds listed as not done.
@Suite struct SpoolMetricsTests {
    func record(_ event: String, outcome: String = "stored") -> RequestRecord {
        let envelope = Envelope(event: event, projectId: "p1", uploadId: "u1", fileUrl: nil, status: "x",
                                objection: nil, timestamp: "2026-11-23T05:00:00.000Z")
        return RequestRecord(time: "2026-11-23T05:00:00.000Z", remoteAddress: "127.0.0.1", method: "POST",
                             status: 200, envelope: envelope, outcome: outcome)
    }

    func append(_ spool: Spool, _ count: Int, _ event: String = "build.uploaded") {
        for _ in 0..<count { RequestLog(spool: spool).append(record(event)) }
    }

    func stored(_ spool: Spool) -> Int { RequestLogCheckpoint(spool: spool).advance().storedDeliveries }

    @Test func aScrapeReadsOnlyTheLinesWrittenSinceTheLast() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        append(spool, 3)
        #expect(stored(spool) == 3)
        // Spoil the lines already counted: a scrape that read them again would count fewer.
        let handle = try #require(FileHandle(forWritingAtPath: spool.layout.requestLog))
        try handle.write(contentsOf: Data(repeating: UInt8(ascii: "x"), count: 40))
        try handle.close()
        append(spool, 2)
        #expect(stored(spool) == 5)
        #expect(stored(spool) == 5)
    }

    @Test func aLineStillBeingWrittenIsCountedOnceWhole() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        append(spool, 1)
        let line = Array(record("build.approved").lineBytes)
        let handle = try #require(FileHandle(forWritingAtPath: spool.layout.requestLog))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.prefix(30)))
        #expect(stored(spool) == 1)
        try handle.write(contentsOf: Data(line.dropFirst(30)))
        try handle.close()
        #expect(stored(spool) == 2)
    }

    @Test func aRotatedLogIsFinishedFromItsNewNameThenTheNewFileIsReadFromItsStart() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        append(spool, 2)
        #expect(stored(spool) == 2)
        append(spool, 1)  // written before the rotation, not yet scraped
        try FileManager.default.moveItem(atPath: spool.layout.requestLog, toPath: spool.layout.requestLog + ".1")
        append(spool, 4)
        #expect(stored(spool) == 7)
        // logrotate compressed the old file meanwhile: the new one still counts, nothing twice.
        try FileManager.default.removeItem(atPath: spool.layout.requestLog + ".1")
        try FileManager.default.moveItem(atPath: spool.layout.requestLog, toPath: spool.layout.requestLog + ".1.gz")
        append(spool, 1)
        #expect(stored(spool) == 8)
    }

    @Test func aTruncatedLogIsReadAgainFromItsStart() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        append(spool, 3)
        #expect(stored(spool) == 3)
        #expect(truncate(spool.layout.requestLog, 0) == 0)
        append(spool, 1)
        #expect(stored(spool) == 4)
    }

    @Test func handlerStatesComeFromTheBuildsListedAsNotDone() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("build.uploaded", "exit 3")
        try scratch.handler("build.approved", "exit 0")
        let receiver = Receiver(settings: .success(scratch.settings()))
        let head = RequestHead(method: "POST", contentType: "application/json")
        for body in [payload(event: "build.uploaded", uploadId: "u1"), payload(event: "build.approved", uploadId: "u2"),
                     payload(event: "build.approved", uploadId: "u3")] {
            let reception = receiver.receive(head) { _ throws(ReceiveError) in body }
            #expect(reception.response.status == 200)
        }
        for upload in ["u1", "u2"] {
            _ = try BuildQueue(settings: scratch.settings(), build: BuildID(project: "p1", build: upload)).drain()
        }
        let metrics = SpoolMetrics(spool: Spool(root: scratch.spool)).collect()
        #expect(metrics.handlers[.failed] == 1)
        #expect(metrics.handlers[.pending] == 1)  // u3: stored, its runner not started
        let text = metrics.exposition
        #expect(text.contains(#"pixelhook_handler_results{state="done"} 1"#), "\(text)")
        #expect(text.contains(#"pixelhook_deliveries_total{event="build.approved"} 2"#))
        #expect(metrics.oldestWaitingMs != nil)
    }

    /// A build whose delivery gave up leaves `unfinished/`; `gave-up/` keeps it counted as
    /// gave_up, not as done, until a replay settles it.
    @Test func aDeliveryThatGaveUpIsCountedAsGaveUpUntilItIsReplayed() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("build.approved", "exit 3")
        var settings = scratch.settings()
        settings.retryLimit = 1
        let receiver = Receiver(settings: .success(settings))
        let reception = receiver.receive(RequestHead(method: "POST", contentType: "application/json")) { _ throws(ReceiveError) in
            payload(event: "build.approved", uploadId: "u1")
        }
        #expect(reception.response.status == 200)
        let build = BuildID(project: "p1", build: "u1")
        #expect(try BuildQueue(settings: settings, build: build).drain()["build.approved.json"]?.state == .gaveUp)
        let spool = Spool(root: scratch.spool)
        #expect(PendingBuilds.unfinished(spool: spool).listed().isEmpty)
        let metrics = SpoolMetrics(spool: spool).collect()
        #expect(metrics.handlers[.gaveUp] == 1, "\(metrics.exposition)")
        #expect(metrics.exposition.contains(#"pixelhook_handler_results{state="done"} 0"#), "\(metrics.exposition)")

        // Replayed with a handler that now works: done, and the list entry goes.
        try scratch.handler("build.approved", "exit 0")
        _ = try BuildQueue(settings: settings, build: build).drain(.named(["build.approved.json"]), wait: true)
        let after = SpoolMetrics(spool: spool).collect()
        #expect(after.handlers[.gaveUp] == 0, "\(after.exposition)")
        #expect(PendingBuilds.gaveUp(spool: spool).listed().isEmpty)
    }

    /// The FastCGI responder scrapes from several threads of one process: each writes its
    /// own temporary checkpoint, so none sees another's half-written file.
    @Test func concurrentScrapesInOneProcessKeepTheCheckpointWhole() async throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        append(spool, 50)
        await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<25).map { _ in RequestLogCheckpoint(spool: spool).advance().storedDeliveries }.min() ?? 0 }
            }
            for await least in group { #expect(least == 50) }
        }
        #expect(stored(spool) == 50)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: spool.root).filter { $0.hasPrefix("metrics.checkpoint.") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
