import Foundation

/// One plain TCP connection to the web server, for requests curl will not send: a
/// Content-Length that lies, a body that trickles in with pauses.
///
/// ```swift
/// let connection = try RawHTTPConnection(port: server.port)
/// try connection.send(RawHTTPConnection.head("POST", path: gateway.path, contentLength: 1 << 30))
/// try connection.send(Array("{}".utf8))
/// let reply = try connection.readReply(timeout: 10)
/// ```
final class RawHTTPConnection {
    private let socket: StreamSocket
    private let started = Date()

    init(port: Int) throws {
        socket = try StreamSocket(tcpPort: port)
    }

    func close() { socket.close() }

    /// An HTTP/1.1 request head (`Connection: close`), with the given Content-Length.
    static func head(_ method: String = "POST", path: String, contentLength: Int?,
                     contentType: String = "application/json") -> [UInt8] {
        var lines = ["\(method) \(path) HTTP/1.1", "Host: 127.0.0.1", "Connection: close", "Content-Type: \(contentType)"]
        if let contentLength { lines.append("Content-Length: \(contentLength)") }
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    /// Writes all of `bytes` (an error if the server hung up).
    func send(_ bytes: [UInt8]) throws { try socket.send(bytes) }

    /// Half-closes: the server reads EOF after what was sent.
    func shutdownWrite() { socket.shutdownWrite() }

    /// Reads until the response is complete (its Content-Length, or the last chunk), the server
    /// closes the connection, or `timeout` seconds pass; the reply so far (status 0 when nothing
    /// came). Not waiting for the close: nginx lingers up to 5 s on a connection whose client
    /// still had a body to send.
    func readReply(timeout: Double) throws -> HTTPReply {
        let deadline = Date().addingTimeInterval(timeout)
        var received: [UInt8] = []
        while case .bytes(let chunk) = socket.receive(before: deadline) {
            received += chunk
            if RawHTTPConnection.isComplete(received) { break }
        }
        return RawHTTPConnection.parse(received, seconds: Date().timeIntervalSince(started))
    }

    static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard let end = headerEnd(bytes) else { return false }
        let headers = HTTPReply.parseHeaders(String(decoding: bytes[..<end], as: UTF8.self))
        let body = bytes.count - (end + 4)
        if let length = headers.first(where: { $0.name.lowercased() == "content-length" }).flatMap({ Int($0.value) }) {
            return body >= length
        }
        return bytes.count >= 5 && Array(bytes.suffix(5)) == Array("0\r\n\r\n".utf8)
    }

    private static func headerEnd(_ bytes: [UInt8]) -> Int? {
        let separator = Array("\r\n\r\n".utf8)
        return (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<($0 + 4)]) == separator })
    }

    /// Status line, headers and body of an HTTP/1.1 response (a chunked body is decoded).
    static func parse(_ bytes: [UInt8], seconds: Double) -> HTTPReply {
        guard let end = headerEnd(bytes) else {
            return HTTPReply(status: 0, headers: [], body: Data(bytes), seconds: seconds)
        }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        let status = head.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        let headers = HTTPReply.parseHeaders(head)
        var body = Array(bytes[(end + 4)...])
        if headers.contains(where: { $0.name.lowercased() == "transfer-encoding" && $0.value.lowercased().contains("chunked") }) {
            body = dechunk(body)
        }
        return HTTPReply(status: status, headers: headers, body: Data(body), seconds: seconds)
    }

    private static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let lineEnd = (index..<max(index, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }),
                  let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? "", radix: 16),
                  size > 0 else { break }
            let start = lineEnd + 2
            out += bytes[start..<min(bytes.count, start + size)]
            index = start + size + 2
        }
        return out
    }
}
