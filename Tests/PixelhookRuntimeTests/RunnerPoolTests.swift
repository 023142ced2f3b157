import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

/// `SPOOL/pending/` and the runner loop that drains it (`DetachedQueueRunner.runPending`).
@Suite struct RunnerPoolTests {
    @Test func aBuildIsListedOnceAndClaimedByOneRunnerOnly() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        let pending = PendingBuilds(spool: spool)
        let build = BuildID(project: "p1", build: "u1")
        #expect(pending.mark(build), "creates pending/ in a spool that has none yet")
        #expect(pending.mark(build))
        #expect(pending.listed() == [build])
        #expect(pending.claim(build))
        #expect(!pending.claim(build), "a second claimer loses")
        #expect(pending.isEmpty)
    }

    @Test func theEntryOfAStoredBuildIsItsArrivalsUnderANewNameNotANewFile() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        let stored = try delivery(payload())
        _ = try spool.store(stored)
        let pending = PendingBuilds(spool: spool)
        #expect(pending.mark(stored.key.buildID))
        #expect(pending.mark(stored.key.buildID), "marking twice is fine")
        var entry = stat(), arrivals = stat()
        #expect(stat(pending.path(stored.key.buildID), &entry) == 0)
        let arrivalsPath = SpoolLayout.arrivalsPath(in: spool.layout.buildDirectory(stored.key))
        #expect(stat(arrivalsPath, &arrivals) == 0)
        #expect(entry.st_ino == arrivals.st_ino && arrivals.st_nlink == 2)
        #expect(pending.claim(stored.key.buildID))
        #expect(stat(arrivalsPath, &arrivals) == 0 && arrivals.st_nlink == 1,
                "claiming leaves the build's own file alone")
    }

    @Test func namesThatAreNotSpoolSegmentsAreNotListed() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        try spool.prepare()
        for name in ["p1:u1", "p1", "a:b:c", ".x:u1", "p1:..", "p1:~abc", "p1:~none"] {
            _ = FileManager.default.createFile(atPath: spool.layout.pending + "/" + name, contents: nil)
        }
        let listed = Set(PendingBuilds(spool: spool).listed().map(\.description))
        #expect(listed == ["p1/u1", "p1/~none"])
    }

    @Test func listingStartsWhereTheRunnerSlotSays() throws {
        let scratch = try ScratchSpool()
        let pending = PendingBuilds(spool: Spool(root: scratch.spool))
        for name in ["a", "b", "c"] { pending.mark(BuildID(project: "p1", build: name)) }
        let first = pending.listed(rotatedBy: 0)
        let rotated = pending.listed(rotatedBy: 1)
        #expect(Set(first) == Set(rotated))
        #expect(Array(first.dropFirst()) + [first[0]] == rotated)
    }

    @Test func aRunnerDrainsEveryListedBuildInOrderThenStops() throws {
        let scratch = try ScratchSpool()
        let (settings, spool) = try recordingSettings(scratch, maxHandlers: 2)
        let bodies = [payload(event: "build.uploaded", uploadId: "u1"), payload(event: "build.approved", uploadId: "u1"),
                      payload(event: "build.uploaded", uploadId: "u2")]
        for body in bodies { try storeAndList(body, in: spool) }
        #expect(try DetachedQueueRunner.runPending(settings: settings) == 3)
        let runs = scratch.read("runs")?.split(separator: "\n").map(String.init) ?? []
        #expect(runs.sorted() == ["p1/u1/build.approved", "p1/u1/build.uploaded", "p1/u2/build.uploaded"])
        #expect(runs.firstIndex(of: "p1/u1/build.uploaded")! < runs.firstIndex(of: "p1/u1/build.approved")!,
                "a build's handlers run in arrival order")
        #expect(PendingBuilds(spool: spool).isEmpty)
        #expect(try DetachedQueueRunner.runPending(settings: settings) == 0, "nothing left: the next runner stops at once")
    }

    @Test func withEveryRunnerSlotHeldARunnerLeavesTheListToTheirHolders() throws {
        let scratch = try ScratchSpool()
        let (settings, spool) = try recordingSettings(scratch, maxHandlers: 2)
        let stored = try storeAndList(payload(), in: spool)
        let runners = HandlerSlots.runners(spool: spool, count: 2)
        // Slots are ~Copyable, which #require does not take.
        guard let first = try runners.tryAcquire(), let second = try runners.tryAcquire() else {
            Issue.record("two free runner slots expected")
            return
        }
        #expect(!runners.hasFree)
        #expect(try DetachedQueueRunner.runPending(settings: settings) == 0)
        #expect(scratch.read("runs") == nil)
        #expect(PendingBuilds(spool: spool).listed() == [stored.key.buildID], "still listed for the busy runners")
        first.release()
        #expect(runners.hasFree)
        #expect(try DetachedQueueRunner.runPending(settings: settings) == 1)
        #expect(scratch.read("runs") == "p1/u1/build.approved\n")
        second.release()
    }

    @Test func aListedBuildWithNothingPendingRunsNothing() throws {
        let scratch = try ScratchSpool()
        let (settings, spool) = try recordingSettings(scratch)
        let stored = try delivery(payload())
        _ = try spool.store(stored)
        _ = try BuildQueue(settings: settings, key: stored.key).drain()
        PendingBuilds(spool: spool).mark(stored.key.buildID)
        PendingBuilds(spool: spool).mark(BuildID(project: "p1", build: "gone"))
        #expect(try DetachedQueueRunner.runPending(settings: settings) == 0)
        #expect(scratch.read("runs") == "p1/u1/build.approved\n", "the done delivery is not run again")
        #expect(PendingBuilds(spool: spool).isEmpty)
    }
}

extension RunnerPoolTests {
    @Test func aRunnerUsesTheSlotItsStarterTookAndGivesItBack() throws {
        let scratch = try ScratchSpool()
        let (settings, spool) = try recordingSettings(scratch, maxHandlers: 1)
        try storeAndList(payload(), in: spool)
        let runners = HandlerSlots.runners(spool: spool, count: 1)
        guard let taken = try runners.tryAcquire() else {
            Issue.record("the only runner slot should be free")
            return
        }
        #expect(!runners.hasFree, "the starter holds the only slot, as `wake` does before spawning")
        #expect(try DetachedQueueRunner.runPending(settings: settings, inherited: taken) == 1)
        #expect(scratch.read("runs") == "p1/u1/build.approved\n")
        #expect(runners.hasFree, "released when the runner is done")
    }
}

extension RunnerPoolTests {
    /// Settings whose `default` handler appends each delivery id it runs to `runs`.
    func recordingSettings(_ scratch: ScratchSpool, maxHandlers: Int = 4) throws -> (Settings, Spool) {
        try scratch.handler("default", #"echo "$PIXELHOOK_DELIVERY" >> ../runs"#)
        let settings = scratch.settings(maxHandlers: maxHandlers)
        return (settings, Spool(root: settings.spool))
    }

    /// Stores `body` (new, not a duplicate) and lists its build as pending, as a receiver does
    /// before answering.
    @discardableResult
    func storeAndList(_ body: [UInt8], in spool: Spool,
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> Delivery {
        let stored = try delivery(body)
        #expect(try spool.store(stored) == .stored, sourceLocation: sourceLocation)
        PendingBuilds(spool: spool).mark(stored.key.buildID)
        return stored
    }
}
