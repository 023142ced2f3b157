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
