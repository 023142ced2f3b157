import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

@Suite struct BuildLockTests {
    @Test func aSecondTakerWithoutWaitingGetsNothing() throws {
        let scratch = try Scratch()
        let directory = scratch.root
        let held = try #require(try BuildLock.acquire(in: directory, wait: false))
        #expect(BuildLock.isHeld(in: directory))
        #expect(try BuildLock.acquire(in: directory, wait: false) == nil)
        held.release()
        #expect(!BuildLock.isHeld(in: directory))
        #expect(try BuildLock.acquire(in: directory, wait: false) != nil)
    }

    @Test func aMissingLockFileIsAFreeLock() throws {
        let scratch = try Scratch()
        #expect(!BuildLock.isHeld(in: scratch.root + "/nowhere"))
    }

    /// `gc` removes the lock file of a build it empties while holding it: whoever was waiting
    /// must end up holding the lock everybody else sees, not the removed file's.
    @Test func aWaiterWhoseLockFileWasRemovedLocksTheNewOne() async throws {
        let scratch = try Scratch()
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

    /// Whatever a handler leaves running inherits its descriptors: were the build's lock or the
    /// handler slot among them, a daemon would hold them for as long as it lives.
    @Test func aHandlerGetsNeitherTheBuildsLockNorItsSlot() throws {
        let scratch = try Scratch()
        try scratch.handler("default", "ls -l /proc/$$/fd/ > ../descriptors")
        let stored = try delivery(payload())
        _ = try Spool(root: scratch.spool).store(stored)
        let results = try BuildQueue(settings: scratch.settings(), key: stored.key).drain()
        #expect(results.values.map(\.state) == [.done])
        let descriptors = try #require(scratch.read("descriptors"))
        // Slots were SPOOL/slots/N; they are the user's directory's now.
        for held in ["/.lock", "/slots/", HandlerSlots.userDirectory() + "/"] {
            #expect(!descriptors.contains(held), "\(held) in \(descriptors)")
        }
    }
}
