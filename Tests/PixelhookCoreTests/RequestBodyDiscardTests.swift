import PixelhookCore
import Testing

/// `RequestBody.discard`: how much of a refused body a gateway reads and drops.
struct RequestBodyDiscardTests {
    /// A stream of `available` bytes (then EOF) that counts what was taken from it.
    final class Stream {
        var available: Int
        var taken = 0
        init(_ available: Int) { self.available = available }
        func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
            let count = min(count, available - taken)
            buffer.initializeMemory(as: UInt8.self, repeating: 0x78, count: count)
            taken += count
            return count
        }
    }

    @Test("The rest of Content-Length is read, and no more")
    func restOfContentLength() {
        let stream = Stream(600_000)
        RequestBody.discard(remaining: 500_000, stream.read)
        #expect(stream.taken == 500_000)
    }

    @Test("Without Content-Length: until EOF")
    func untilEndOfStream() {
        let stream = Stream(300_000)
        RequestBody.discard(remaining: nil, stream.read)
        #expect(stream.taken == 300_000)
    }

    @Test("Never more than discardAllowance, whatever the client announces or sends")
    func boundedInBytes() {
        let announced = Stream(RequestBody.discardAllowance * 3)
        RequestBody.discard(remaining: RequestBody.discardAllowance * 3, announced.read)
        #expect(announced.taken == RequestBody.discardAllowance)

        let endless = Stream(Int.max)
        RequestBody.discard(remaining: nil, endless.read)
        #expect(endless.taken == RequestBody.discardAllowance)
    }

    @Test("Nothing left, or a negative rest (a body longer than announced): nothing read")
    func nothingLeft() {
        let stream = Stream(1000)
        RequestBody.discard(remaining: 0, stream.read)
        RequestBody.discard(remaining: -5, stream.read)
        #expect(stream.taken == 0)
    }
}
