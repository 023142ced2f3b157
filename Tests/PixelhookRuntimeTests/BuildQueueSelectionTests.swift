import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

/// `BuildQueue.drain(_:wait:)` with the selections `retry` and `replay` use.
@Suite struct BuildQueueSelectionTests {
    /// Stores the events of build u1 in order and runs them once.
    static func storeAndDrain(_ scratch: ScratchSpool, _ events: [String]) throws -> BuildQueue {
        let settings = scratch.settings()
        var key: DeliveryKey?
        for event in events {
            let stored = try delivery(payload(event: event))
            _ = try Spool(root: settings.spool).store(stored)
            key = stored.key
        }
        let queue = BuildQueue(settings: settings, key: try #require(key))
        try queue.drain()
        return queue
    }

    @Test func pendingRerunningReRunsFailuresOnceEachInArrivalOrder() throws {
        let scratch = try ScratchSpool()
        // Fails every time: a rerun that fails again must not loop.
        try scratch.handler("default", #"echo "$PIXELHOOK_EVENT" >> ../runs; [ "$PIXELHOOK_EVENT" = build.saving ] || exit 5"#)
        let queue = try Self.storeAndDrain(scratch, ["build.uploaded", "build.saving", "build.downloading"])
        #expect(scratch.read("runs")?.split(separator: "\n").count == 3)

        let runs = try #require(try queue.drain(.pending(rerunning: [.failed]), wait: false))
        #expect(runs.map(\.delivery.name) == [SpoolLayout.payloadName(event: "build.uploaded"), SpoolLayout.payloadName(event: "build.downloading")])
        #expect(runs.allSatisfy { $0.previous?.state == .failed && $0.result.state == .failed })
        #expect(scratch.read("runs")?.split(separator: "\n").count == 5)
        // Plain pending: everything has a result.
        #expect(try queue.drain(.pending(), wait: false)?.isEmpty == true)
    }

    @Test func namedRerunsWhateverTheResultAndOnlyThose() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", #"echo "$PIXELHOOK_EVENT" >> ../runs"#)
        let queue = try Self.storeAndDrain(scratch, ["build.uploaded", "build.approved"])
        let runs = try #require(try queue.drain(.named([SpoolLayout.payloadName(event: "build.approved")]), wait: true))
        #expect(runs.map(\.delivery.name) == [SpoolLayout.payloadName(event: "build.approved")])
        #expect(runs.first?.previous?.state == .done)
        #expect(scratch.read("runs") == "build.uploaded\nbuild.approved\nbuild.approved\n")
    }

    @Test func aHeldLockMeansNilWithoutWaiting() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", "exit 3")
        let queue = try Self.storeAndDrain(scratch, ["build.uploaded"])
        let lock = try #require(try BuildLock.acquire(in: queue.directory, wait: false))
        defer { lock.release() }
        #expect(queue.isBusy)
        #expect(try queue.drain(.pending(rerunning: RetrySweep.rerunnable), wait: false) == nil)
        #expect(try queue.candidates(.pending(rerunning: RetrySweep.rerunnable)).map(\.name) == [SpoolLayout.payloadName(event: "build.uploaded")])
    }

    @Test func anUnreadableResultIsRetried() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", "exit 0")
        let queue = try Self.storeAndDrain(scratch, ["build.uploaded"])
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: StoredDelivery(directory: queue.directory, event: "build.uploaded").resultPath))
        #expect(try queue.candidates(.pending()).isEmpty, "a runner after a request leaves it alone")
        #expect(try queue.candidates(.pending(rerunning: RetrySweep.rerunnable)).count == 1)
    }
}
