#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import PixelhookRuntime

/// The flock'd slot files that cap handlers and runners (`HandlerSlots`); who holds what is
/// covered with the runner pool (`RunnerPoolTests`).
@Suite struct HandlerSlotsTests {
    /// A second close of the same number is invisible in one thread except through errno: it
    /// fails with EBADF. In the FastCGI responder it closed another worker's connection.
    @Test func releaseClosesTheDescriptorExactlyOnce() throws {
        let scratch = try Scratch()
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
