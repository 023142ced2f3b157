import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

/// A runner that waits a moment for the next delivery (`IdleRunner`, the FastCGI responder's
/// runners): the next delivery of a burst is run by it, and no runner is started for it.
@Suite struct IdleRunnerTests {
    /// A path no runner can be started from: `wake` returns the spawn's error if it tries.
    static let noExecutable = "/nonexistent/pixelhook"

    @Test func aWaitingRunnerRunsTheNextDeliveryAndNoRunnerIsStarted() throws {
        let scratch = try ScratchSpool()
        let (settings, spool) = try RunnerPoolTests().recordingSettings(scratch)
        try RunnerPoolTests().storeAndList(payload(uploadId: "u1"), in: spool)
        let finished = RunnerOutcome()
        Thread.detachNewThread {
            finished.set(Result { try DetachedQueueRunner.runPending(settings: settings, linger: 3) })
        }
        try #require(waitUntil { scratch.read("runs") == "p1/u1/build.approved\n" && IdleRunner.isWaiting(spool: spool) },
                     "the runner ran u1 and waits")
        let next = try RunnerPoolTests().storeAndList(payload(uploadId: "u2"), in: spool)
        let followUp = Receiver.FollowUp(settings: settings, key: next.key)
        #expect(DetachedQueueRunner.wake(followUp, linger: true, executable: Self.noExecutable) == 0,
                "the waiting runner is used: no runner is started")
        try #require(waitUntil { scratch.read("runs")?.contains("p1/u2/build.approved") == true }, "the waiting runner ran u2")
        let started = Date()
        try #require(waitUntil(seconds: 10) { finished.get() != nil })
        #expect(try finished.get()?.get() == 2)
        #expect(Date().timeIntervalSince(started) < 6, "it stops once nothing came for its linger")
        #expect(!IdleRunner.isWaiting(spool: spool))
        #expect(PendingBuilds(spool: spool).isEmpty)
    }

    @Test func withoutLingerTheRunnerStopsAndTheNextDeliveryStartsOne() throws {
        let scratch = try ScratchSpool()
        let (settings, spool) = try RunnerPoolTests().recordingSettings(scratch)
        try RunnerPoolTests().storeAndList(payload(uploadId: "u1"), in: spool)
        #expect(try DetachedQueueRunner.runPending(settings: settings) == 1)
        #expect(!IdleRunner.isWaiting(spool: spool))
        let next = try RunnerPoolTests().storeAndList(payload(uploadId: "u2"), in: spool)
        #expect(DetachedQueueRunner.wake(Receiver.FollowUp(settings: settings, key: next.key), executable: Self.noExecutable) == ENOENT,
                "nobody waits: a runner is started (here: tried)")
    }

    /// Only one runner waits; a second one that finds it waiting stops at once.
    @Test func aSecondRunnerDoesNotWaitWhileOneDoes() throws {
        let scratch = try ScratchSpool()
        let (settings, spool) = try RunnerPoolTests().recordingSettings(scratch)
        try spool.prepare()
        let first = RunnerOutcome()
        Thread.detachNewThread { first.set(Result { try DetachedQueueRunner.runPending(settings: settings, linger: 2) }) }
        try #require(waitUntil { IdleRunner.isWaiting(spool: spool) })
        let started = Date()
        #expect(try DetachedQueueRunner.runPending(settings: settings, linger: 2) == 0)
        #expect(Date().timeIntervalSince(started) < 1, "the second runner did not wait")
        try #require(waitUntil(seconds: 10) { first.get() != nil })
    }

    /// A listed entry that cannot be claimed (here: a build whose directory is gone, claimed
    /// and listed again by hand) must not keep a waiting runner spinning: it waits for its
    /// linger and stops.
    @Test func anEntryThatRunsNothingDoesNotKeepTheRunnerBusy() throws {
        let scratch = try ScratchSpool()
        let (settings, spool) = try RunnerPoolTests().recordingSettings(scratch)
        try spool.prepare()
        PendingBuilds(spool: spool).mark(BuildID(project: "p1", build: "gone"))
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpuBefore = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let started = Date()
        #expect(try DetachedQueueRunner.runPending(settings: settings, linger: 1) == 0)
        let waited = Date().timeIntervalSince(started)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 - cpuBefore
        #expect(waited >= 0.9 && waited < 5, "waited its linger, then stopped")
        #expect(cpu < 0.5, "slept rather than spun (\(cpu) s of CPU)")
    }
}

/// What a runner thread returned, read by the test's thread.
final class RunnerOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<Int, any Error>?
    func set(_ result: Result<Int, any Error>) { lock.withLock { value = result } }
    func get() -> Result<Int, any Error>? { lock.withLock { value } }
}

/// Polls `condition` every 10 ms for up to `seconds`.
func waitUntil(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
