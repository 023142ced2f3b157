import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

@Suite struct BuildLockTests {
    @Test func aSecondTakerWithoutWaitingGetsNothing() throws {
        let scratch = try ScratchSpool()
        let directory = scratch.root
        let held = try #require(try BuildLock.acquire(in: directory, wait: false))
        #expect(BuildLock.isHeld(in: directory))
        #expect(try BuildLock.acquire(in: directory, wait: false) == nil)
        held.release()
        #expect(!BuildLock.isHeld(in: directory))
        #expect(try BuildLock.acquire(in: directory, wait: false) != nil)
    }

    @Test func aMissingLockFileIsAFreeLock() throws {
        let scratch = try ScratchSpool()
        #expect(!BuildLock.isHeld(in: scratch.root + "/nowhere"))
    }

    /// `gc` removes the lock file of a build it empties while holding it: whoever was waiting
    /// must end up holding the lock everybody else sees, not the removed file's.
    @Test func aWaiterWhoseLockFileWasRemovedLocksTheNewOne() async throws {
        let scratch = try ScratchSpool()
        let directory = scratch.root
        let first = try #require(try BuildLock.acquire(in: directory, wait: false))
        let waiter = Task.detached { () throws -> Bool in
            let lock = try BuildLock.acquire(in: directory, wait: true)
            defer { lock?.release() }
            // Held as seen through the path: another process would be kept out.
            return lock != nil && BuildLock.isHeld(in: directory)
        }
        try await Task.sleep(for: .milliseconds(200))
        first.unlinkFile()
        first.release()
        #expect(try await waiter.value)
    }

    /// A handler holds the build's lock as fd 3 and its handler slot as fd 4 (each with its
    /// flock, seen in fdinfo), so both stay held while it runs even if its runner is killed;
    /// nothing else of ours reaches it, not even a descriptor left open without `FD_CLOEXEC`.
    @Test func aHandlerHoldsTheBuildsLockAsFd3AndItsSlotAsFd4AndNothingElse() throws {
        let scratch = try ScratchSpool()
        try scratch.handler("default", """
            for n in 3 4; do echo "$n $(readlink /proc/$$/fd/$n) $(grep -c FLOCK /proc/$$/fdinfo/$n)"; done > ../held
            ls -l /proc/$$/fd/ > ../descriptors
            """)
        let stored = try delivery(payload())
        _ = try Spool(root: scratch.spool).store(stored)
        // As a web server might leave one: open without FD_CLOEXEC across the handler's spawn.
        let leaked = open(scratch.root + "/leaked", O_WRONLY | O_CREAT, 0o600)
        #expect(leaked >= 0)
        defer { close(leaked) }
        let results = try BuildQueue(settings: scratch.settings(), key: stored.key).drain()
        #expect(results.values.map(\.state) == [.done])

        let held = try #require(scratch.read("held")).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let buildLock = BuildLock.path(in: Spool(root: scratch.spool).layout.buildDirectory(stored.key))
        #expect(held.first == ["3", buildLock, "1"], "\(held)")
        let slot = try #require(held.last)
        #expect(slot.count == 3 && slot[0] == "4" && slot[1].hasPrefix(HandlerSlots.userDirectory() + "/") && slot[2] == "1", "\(held)")
        let descriptors = try #require(scratch.read("descriptors"))
        #expect(!descriptors.contains(scratch.root + "/leaked"), "\(descriptors)")
    }
}
