#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PixelhookCore
import Testing
@testable import PixelhookRuntime

/// The flock'd slot files that cap handlers and runners (`HandlerSlots`); who holds what is
/// covered with the runner pool (`RunnerPoolTests`).
@Suite struct HandlerSlotsTests {
    /// A second close of the same number is invisible in one thread except through errno: it
    /// fails with EBADF. In the FastCGI responder it closed another worker's connection.
    @Test func releaseClosesTheDescriptorExactlyOnce() throws {
        let scratch = try ScratchSpool()
        try Spool(root: scratch.spool).prepare()
        let slots = HandlerSlots(directory: scratch.spool, count: 1)
        guard let slot = try slots.tryAcquire() else {
            Issue.record("a free slot was not acquired")
            return
        }
        let descriptor = slot.descriptor
        errno = 0
        slot.release()
        // errno is per thread; the number itself may already be another test's new descriptor.
        #expect(errno == 0, "errno \(errno): release closed descriptor \(descriptor) more than once")
    }
}

/// `PIXELHOOK_MAX_HANDLERS` counts the user's handlers on the host, whatever spool or handlers
/// directory they come from (`HandlerSlots+User`).
@Suite struct UserHandlerSlotsTests {
    @Test func twoSpoolsWithACapOfOneNeverRunTwoHandlersAtOnce() throws {
        let shared = try ScratchSpool()
        let running = shared.root + "/running"
        // Fails (exit 1) if another handler is inside the same interval; mkdir is atomic.
        let script = """
            mkdir \(running) 2>/dev/null || { echo "$PIXELHOOK_DELIVERY" >> \(shared.root)/overlaps; exit 1; }
            sleep 0.3
            rmdir \(running)
            """
        let locations = try (0..<2).map { _ in try ScratchSpool() }
        let builds = try locations.map { location in
            try location.handler("default", script)
            let stored = try delivery(payload())
            _ = try Spool(root: location.spool).store(stored)
            return (location.settings(maxHandlers: 1), stored.key)
        }
        let results = Results()
        // Threads of their own: concurrentPerform may run both on one busy thread, one after
        // the other, and prove nothing.
        let finished = DispatchSemaphore(value: 0)
        for (settings, key) in builds {
            Thread {
                results.add((try? BuildQueue(settings: settings, key: key).drain())?.values.map(\.state) ?? [])
                finished.signal()
            }.start()
        }
        for _ in builds { finished.wait() }
        #expect(shared.read("overlaps") == nil, "two handlers ran at once: \(shared.read("overlaps") ?? "")")
        #expect(results.states == [.done, .done])
    }

    @Test func aSlotDirectoryThatIsNotOursAloneIsRefused() throws {
        let scratch = try ScratchSpool()
        let directory = HandlerSlots.userDirectory(under: scratch.root)
        #expect(throws: Never.self) { _ = try HandlerSlots.user(count: 1, under: scratch.root) }
        var info = stat()
        #expect(lstat(directory, &info) == 0 && info.st_mode & 0o777 == 0o700, "created 0700")

        #expect(chmod(directory, 0o777) == 0)
        #expect(HandlerSlots.userDirectoryProblem(under: scratch.root)?.contains("writable by group or others") == true)
        #expect(throws: HandlerSlots.Refusal.self) { _ = try HandlerSlots.user(count: 1, under: scratch.root) }

        #expect(chmod(directory, 0o700) == 0 && chown(directory, 65534, 65534) == 0)
        #expect(HandlerSlots.userDirectoryProblem(under: scratch.root)?.contains("owned by uid 65534") == true)
        #expect(throws: HandlerSlots.Refusal.self) { _ = try HandlerSlots.user(count: 1, under: scratch.root) }

        #expect(rmdir(directory) == 0 && symlink(scratch.handlers, directory) == 0)
        #expect(HandlerSlots.userDirectoryProblem(under: scratch.root)?.contains("not a directory") == true)
        #expect(throws: HandlerSlots.Refusal.self) { _ = try HandlerSlots.user(count: 1, under: scratch.root) }
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var collected: [HandlerResult.State] = []
        func add(_ states: [HandlerResult.State]) { lock.withLock { collected += states } }
        var states: [HandlerResult.State] { lock.withLock { collected } }
    }
}
