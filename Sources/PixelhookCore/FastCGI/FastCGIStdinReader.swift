/// The request body from a FastCGI connection's STDIN records, read by pixelhook rather than
/// libfcgi: libfcgi, while reading the body, also answers management records (FCGI_GET_VALUES)
/// and allocates each of their name-value pairs from the lengths the client states, the same
/// `Malloc` assertion `FastCGIRecordCheck` keeps away from the params. Here every record after
/// the params must be a STDIN record of the request; anything else ends the body as an error.
///
/// `readRaw` reads the connection's bytes (as `recv`: how many, 0 at EOF, negative on error),
/// up to 8 KiB at a time into a buffer, as libfcgi does: a record is a few small pieces, one
/// `recv` each would cost more than the request; `read` is what `RequestBody.read` takes.
public struct FastCGIStdinReader {
    private let requestID: Int
    private let readRaw: (UnsafeMutableRawPointer, Int) -> Int
    private var buffer = [UInt8](repeating: 0, count: 8192)
    private var position = 0
    private var filled = 0
    private var remaining = 0
    private var padding = 0
    private var ended = false
    /// Why the body stopped short: a record that is not STDIN, or the connection ending mid-record.
    public private(set) var problem: String?

    public init(requestID: Int, readRaw: @escaping (UnsafeMutableRawPointer, Int) -> Int) {
        self.requestID = requestID
        self.readRaw = readRaw
    }

    /// Up to `count` body bytes at `buffer`; 0 after the empty STDIN record, -1 on a problem.
    public mutating func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        guard problem == nil else { return -1 }
        while remaining == 0 {
            guard !ended else { return 0 }
            guard skip(padding) else { return fail("the connection ended inside a record") }
            padding = 0
            var header = [UInt8](repeating: 0, count: 8)
            guard fill(&header) else { return fail("the connection ended before the body's end") }
            guard header[0] == 1, header[1] == 5, Int(header[2]) << 8 | Int(header[3]) == requestID else {
                return fail("record type \(header[1]) for request \(Int(header[2]) << 8 | Int(header[3])) in the body of request \(requestID)")
            }
            remaining = Int(header[4]) << 8 | Int(header[5])
            padding = Int(header[6])
            ended = remaining == 0
        }
        let got = take(into: buffer, min(count, remaining))
        guard got > 0 else { return fail("the connection ended inside a record") }
        remaining -= got
        return got
    }

    /// Bytes read from the connection beyond the end of the body: a kept connection with these
    /// cannot be handed on (the next request's start would be lost), so it must be closed.
    public var readPastEnd: Bool { position < filled }

    /// Up to `count` buffered bytes, refilling the buffer from the connection when it is empty.
    private mutating func take(into destination: UnsafeMutableRawPointer, _ count: Int) -> Int {
        if position == filled {
            let got = buffer.withUnsafeMutableBytes { readRaw($0.baseAddress!, $0.count) }
            guard got > 0 else { return got }
            position = 0
            filled = got
        }
        let served = min(count, filled - position)
        buffer.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress! + position, byteCount: served) }
        position += served
        return served
    }

    /// Reads and drops the rest of the body, through the empty STDIN record, so that the next
    /// request on a kept connection starts at a record boundary; false if that fails or takes
    /// more than `limit` bytes (then the connection must be closed).
    public mutating func skipToEnd(limit: Int = 1 << 20) -> Bool {
        var scratch = [UInt8](repeating: 0, count: 8192)
        var skipped = 0
        while skipped <= limit {
            let got = scratch.withUnsafeMutableBytes { read($0.baseAddress!, $0.count) }
            if got == 0 {
                defer { padding = 0 }
                return skip(padding)
            }
            guard got > 0 else { return false }
            skipped += got
        }
        return false
    }

    private mutating func fail(_ reason: String) -> Int {
        problem = reason
        return -1
    }

    private mutating func fill(_ bytes: inout [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let got = bytes.withUnsafeMutableBytes { take(into: $0.baseAddress! + done, $0.count - done) }
            guard got > 0 else { return false }
            done += got
        }
        return true
    }

    private mutating func skip(_ count: Int) -> Bool {
        var scratch = [UInt8](repeating: 0, count: count)
        return count == 0 || fill(&scratch)
    }
}
