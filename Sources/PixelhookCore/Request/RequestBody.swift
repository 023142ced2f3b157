/// Reading a request body the same way whatever the gateway's stream (CGI stdin, FastCGI).
public enum RequestBody {
    /// Exactly `contentLength` bytes when given (a shorter stream is a truncated request), else
    /// until EOF; never more than `limit + 1` bytes (one more than allowed means too large).
    ///
    /// - Parameter read: fills up to `count` bytes at the pointer; returns how many, 0 at EOF,
    ///   negative on error (a gateway retries EINTR itself).
    public static func read(
        contentLength: Int?, limit: Int, _ read: (UnsafeMutableRawPointer, Int) -> Int
    ) throws(ReceiveError) -> [UInt8] {
        let want = min(contentLength ?? (limit + 1), limit + 1)
        var body = [UInt8](repeating: 0, count: want)
        var filled = 0
        while filled < want {
            let count = body.withUnsafeMutableBytes { read($0.baseAddress! + filled, want - filled) }
            if count <= 0 { break }
            filled += count
        }
        if let contentLength, filled < min(contentLength, limit + 1) {
            throw ReceiveError(.invalidPayload, "body ended after \(filled) of \(contentLength) bytes (Content-Length)")
        }
        body.removeSubrange(filled...)
        return body
    }
}

extension RequestBody {
    /// The most a gateway reads and drops of a body it refused as too large (see `discard`):
    /// above the examples' web server limits (1 MiB), so a body those let through is drained
    /// whole, yet a client cannot keep a process reading for ever.
    public static let discardAllowance = 4 << 20

    /// Reads and drops the rest of a body refused as too large. A CGI that exits with its body
    /// unread makes fcgiwrap answer `502` instead of our JSON 413, so the gateway drains it
    /// first: `remaining` bytes (the rest of Content-Length, or until EOF when nil), at most
    /// `discardAllowance`.
    ///
    /// - Parameter read: as for `read(contentLength:limit:_:)`; the gateway bounds the time by
    ///   returning 0 once its deadline has passed.
    public static func discard(remaining: Int?, _ read: (UnsafeMutableRawPointer, Int) -> Int) {
        var left = min(remaining ?? discardAllowance, discardAllowance)
        guard left > 0 else { return }
        var scrap = [UInt8](repeating: 0, count: 64 << 10)
        while left > 0 {
            let count = scrap.withUnsafeMutableBytes { read($0.baseAddress!, min($0.count, left)) }
            if count <= 0 { return }
            left -= count
        }
    }
}
