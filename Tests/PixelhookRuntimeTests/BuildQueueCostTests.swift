import Foundation
import Testing
import PixelhookCore
import PixelhookTestSupport
@testable import PixelhookRuntime

/// Issue #12 items 11 and 13: a runner's drain reads a build's queue from its cursor on, not
/// the whole build per handler run; `retry` reads only the builds `SPOOL/unfinished/` and
/// `SPOOL/pending/` list. Asserted through what is (not) run, never through wall-clock time.
@Suite struct BuildQueueCostTests {
    func storeTests(_ count: Int, from first: Int = 0, in spool: Spool) throws -> DeliveryKey {
        var key: DeliveryKey?
        for index in first..<(first + count) {
            let stored = try delivery(payload(event: "webhook.test", uploadId: "u1"), nonce: "n\(index)")
            _ = try spool.store(stored)
            key = stored.key
        }
        return try #require(key)
    }

    func buildDirectory(_ scratch: ScratchSpool) -> String { scratch.spoolLayout.buildDirectory(BuildID(project: "p1", build: "u1")) }

    func results(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(SpoolLayout.Companion.result.rawValue) }
    }

    /// Before: every handler run listed the build, reread `.arrivals` and read every result, so
    /// a build of N deliveries cost N² (1,200: 25 s). Proof that nothing behind the cursor is
    /// looked at again: the finished deliveries' results are removed, and the next drain runs
    /// only the one new delivery (a drain that rescanned the build would run all 31 again).
    @Test func aDrainNeverLooksBehindItsCursor() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("webhook.test", "exit 0")
        let settings = scratch.settings()
        let spool = Spool(root: settings.spool)
        let key = try storeTests(30, in: spool)
        #expect(try BuildQueue(settings: settings, key: key).drain().count == 30)
        for result in try results(in: buildDirectory(scratch)) { unlink(buildDirectory(scratch) + "/" + result) }

        let newest = try storeTests(1, from: 30, in: spool)
        #expect(try BuildQueue(settings: settings, key: newest).drain().keys.sorted() == [SpoolLayout.payloadName(event: newest.event)])
    }

    /// A runner killed after writing a result but before moving its cursor: the next drain
    /// skips what has a result and runs the rest, in arrival order, each once.
    @Test func aCursorLeftBehindSkipsNothingAndRerunsNothing() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", #"echo "$PIXELHOOK_EVENT" >> ../order"#)
        let settings = scratch.settings()
        let spool = Spool(root: settings.spool)
        let events = ["build.uploaded", "build.downloading", "build.extracting", "build.saving"]
        for event in events { _ = try spool.store(try delivery(payload(event: event))) }
        let done = HandlerResult(state: .done, handler: nil, exitCode: 0, signal: nil, startedAt: "", durationMs: 0,
                                 outputBytes: 0, outputTruncated: false, detail: nil)
        for event in events.prefix(2) {
            try StoredDelivery(directory: buildDirectory(scratch), event: event).record(done)
        }
        try Data(String(repeating: "0", count: 20).utf8 + [10]).write(to: URL(fileURLWithPath: SpoolLayout.lockPath(in: buildDirectory(scratch))))

        let ran = try BuildQueue(settings: settings, key: try delivery(payload()).key).drain()
        #expect(ran.keys.sorted() == [SpoolLayout.payloadName(event: "build.extracting"), SpoolLayout.payloadName(event: "build.saving")])
        #expect(scratch.read("order") == "build.extracting\nbuild.saving\n")
        #expect(!FileManager.default.fileExists(atPath: scratch.spoolLayout.unfinishedEntry(BuildID(project: "p1", build: "u1"))))
    }

    /// A build with a delivery not done stays listed in `unfinished/` until `retry` makes it
    /// done; `retry` then takes it off the list.
    @Test func aBuildStaysListedUntilEveryDeliveryIsDone() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", "exit 3")
        let settings = scratch.settings()
        let spool = Spool(root: settings.spool)
        let stored = try delivery(payload(event: "build.uploaded"))
        _ = try spool.store(stored)
        _ = try spool.store(try delivery(payload(event: "build.saving")))
        #expect(try BuildQueue(settings: settings, key: stored.key).drain().values.allSatisfy { $0.state == .failed })
        let entry = scratch.spoolLayout.unfinishedEntry(BuildID(project: "p1", build: "u1"))
        #expect(FileManager.default.fileExists(atPath: entry))

        try scratch.handler("default", "exit 0")
        try StoredAttempts.endedLongAgo(spool: scratch.spool)  // past the back-off
        var steps = 0
        #expect(try RetrySweep(settings: settings).run { _ in steps += 1 } == .finished(ran: 2))
        #expect(steps == 2)
        #expect(!FileManager.default.fileExists(atPath: entry))
    }

    /// A listed build that `gc` removed (its failed deliveries grown old) leaves the list at
    /// the next retry, instead of being tried by every retry for ever.
    @Test func aBuildGCRemovedLeavesTheList() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", "exit 3")
        let settings = scratch.settings()
        let stored = try delivery(payload(event: "build.uploaded"))
        _ = try Spool(root: settings.spool).store(stored)
        try BuildQueue(settings: settings, key: stored.key).drain()
        let entry = scratch.spoolLayout.unfinishedEntry(BuildID(project: "p1", build: "u1"))
        #expect(FileManager.default.fileExists(atPath: entry))
        try FileManager.default.removeItem(atPath: buildDirectory(scratch))

        #expect(try RetrySweep(settings: settings).run { _ in } == .finished(ran: 0))
        #expect(!FileManager.default.fileExists(atPath: entry))
    }

    /// `retry` reads every build only while its lists are not known complete for this boot
    /// (a new spool, or after a reboot: a power cut may have taken unsynced entries back); that
    /// sweep records the boot, and later sweeps read only what is listed. Shown with a build
    /// that is not listed but has a delivery with no result: seen by the full sweep only.
    @Test func retryReadsOnlyListedBuildsOnceItsListsAreComplete() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", "exit 0")
        let settings = scratch.settings()
        let spool = Spool(root: settings.spool)
        let stored = try delivery(payload(event: "build.uploaded"))
        _ = try spool.store(stored)
        try BuildQueue(settings: settings, key: stored.key).drain()
        let sweep = RetrySweep(settings: settings)
        #expect(try sweep.run { _ in } == .finished(ran: 0))
        let mark = scratch.read(ScratchSpool.spoolFiles.unfinished + "/" + SpoolLayout.completeName)
        #expect(mark != nil && mark == RetrySweep.bootID().map { $0 + "\n" })

        unlink(StoredDelivery(directory: buildDirectory(scratch), event: "build.uploaded").resultPath)  // unlisted, unfinished
        var wouldRun: [String] = []
        func dryRun() throws {
            wouldRun = []
            _ = try sweep.run(dryRun: true) { if case .wouldRun(let delivery, _) = $0 { wouldRun.append(delivery.id) } }
        }
        try dryRun()
        #expect(wouldRun.isEmpty)
        RetrySweep.forgetListsComplete(spool: spool)
        try dryRun()
        #expect(wouldRun == ["p1/u1/build.uploaded"])
    }
}
