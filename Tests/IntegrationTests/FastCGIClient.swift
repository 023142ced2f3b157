import Foundation

/// One connection straight to a FastCGI responder's socket (unix or TCP), speaking FastCGI 1.0 records
/// the way nginx does (one request per connection, role RESPONDER), and able to do what a web
/// server never does: hold a request open, cut it off, or send garbage.
final class FastCGIConnection {
    enum RecordType: UInt8 {
        case beginRequest = 1, abortRequest = 2, endRequest = 3, params = 4, stdin = 5, stdout = 6, stderr = 7
    }

    private let socket: StreamSocket

    /// Connects to the unix socket at `path`; throws if nothing listens there.
    init(socket path: String) throws {
        socket = try StreamSocket(unixPath: path)
    }

    /// Connects over TCP to `host`:`port`, from the local address `source` when given.
    init(host: String, port: Int, source: String? = nil) throws {
        socket = try StreamSocket(host: host, port: port, source: source)
    }

    func close() { socket.close() }

    /// Writes all of `bytes` (an error if the responder hung up).
    func send(_ bytes: [UInt8]) throws { try socket.send(bytes) }

    /// Half-closes the connection: the responder reads EOF after what was sent.
    func shutdownWrite() { socket.shutdownWrite() }

    // MARK: - Records

    static func record(_ type: RecordType, requestID: UInt16 = 1, _ content: [UInt8]) -> [UInt8] {
        record(rawType: type.rawValue, requestID: requestID, content)
    }

    /// A record header (version 1) and its content, no padding.
    static func record(rawType: UInt8, requestID: UInt16 = 1, _ content: [UInt8]) -> [UInt8] {
        precondition(content.count <= 0xFFFF)
        return [1, rawType, UInt8(requestID >> 8), UInt8(requestID & 0xFF),
                UInt8(content.count >> 8), UInt8(content.count & 0xFF), 0, 0] + content
    }

    /// BEGIN_REQUEST for `role` (1: RESPONDER), flags 0: the connection closes after the request.
    static func beginRequest(role: UInt16 = 1) -> [UInt8] {
        record(.beginRequest, [UInt8(role >> 8), UInt8(role & 0xFF), 0, 0, 0, 0, 0, 0])
    }

    /// The PARAMS stream for `params`, ended by an empty PARAMS record.
    static func params(_ params: [String: String]) -> [UInt8] {
        func length(_ count: Int) -> [UInt8] {
            count < 128 ? [UInt8(count)]
                : [UInt8((count >> 24) | 0x80), UInt8((count >> 16) & 0xFF), UInt8((count >> 8) & 0xFF), UInt8(count & 0xFF)]
        }
        var pairs: [UInt8] = []
        for (name, value) in params.sorted(by: { $0.key < $1.key }) {
            pairs += length(name.utf8.count) + length(value.utf8.count) + Array(name.utf8) + Array(value.utf8)
        }
        return stream(.params, pairs)
    }

    /// `content` as records of `type` in chunks, then the empty record that ends the stream.
    static func stream(_ type: RecordType, _ content: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        var start = 0
        while start < content.count {
            let end = min(start + 0xFFFF, content.count)
            bytes += record(type, Array(content[start..<end]))
            start = end
        }
        return bytes + record(type, [])
    }

    // MARK: - Requests

    /// The parameters nginx's FastCGI section sends for a request of `body` to the FastCGI
    /// location, for requests made straight on the socket.
    static func nginxParams(method: String = "POST", query: String = "", body: [UInt8]) -> [String: String] {
        [
            "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_METHOD": method,
            "REQUEST_URI": "/hooks/streampixel-fastcgi" + (query.isEmpty ? "" : "?" + query),
            "SCRIPT_NAME": "/hooks/streampixel-fastcgi", "QUERY_STRING": query, "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": String(body.count), "REMOTE_ADDR": "127.0.0.1",
        ]
    }

    /// One whole request (params, then body) and its response, then the connection is closed.
    func exchange(_ params: [String: String], body: [UInt8], timeout: Double = 10) throws -> FastCGIResponse {
        defer { close() }
        try begin(params: params)
        try sendBody(body)
        return try readResponse(timeout: timeout)
    }

    /// BEGIN_REQUEST and all PARAMS: the request is complete but for its body.
    func begin(params: [String: String]) throws {
        try send(FastCGIConnection.beginRequest() + FastCGIConnection.params(params))
    }

    /// The body as STDIN records, and the empty one that ends it.
    func sendBody(_ body: [UInt8]) throws {
        try send(FastCGIConnection.stream(.stdin, body))
    }

    /// Reads records until END_REQUEST, EOF or `timeout` seconds. Close the connection then, as
    /// nginx does: libfcgi ends a request by shutting down its side and waiting (up to 2 s, in
    /// that worker thread) for the client to close.
    func readResponse(timeout: Double) throws -> FastCGIResponse {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer: [UInt8] = []
        var response = FastCGIResponse()
        while true {
            // Whole records first.
            while buffer.count >= 8 {
                let length = Int(buffer[4]) << 8 | Int(buffer[5])
                let total = 8 + length + Int(buffer[6])
                guard buffer.count >= total else { break }
                let content = Array(buffer[8..<(8 + length)])
                switch RecordType(rawValue: buffer[1]) {
                case .stdout: response.stdout += content
                case .stderr: response.stderr += content
                case .endRequest:
                    response.ended = true
                    response.appStatus = content.count >= 4
                        ? Int32(bitPattern: UInt32(content[0]) << 24 | UInt32(content[1]) << 16 | UInt32(content[2]) << 8 | UInt32(content[3]))
                        : nil
                    return response
                default: break
                }
                buffer.removeFirst(total)
            }
            // EOF, a reset or the deadline: whatever came.
            guard case .bytes(let chunk) = socket.receive(before: deadline) else { return response }
            buffer += chunk
        }
    }

    /// Reads and drops everything until the responder closes the connection; true if it did
    /// within `timeout` seconds.
    func waitForClose(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            switch socket.receive(before: deadline) {
            case .bytes: continue
            case .closed: return true
            case .timedOut: return false
            }
        }
    }
}

/// What came back on one FastCGI connection.
struct FastCGIResponse: CustomStringConvertible {
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
    /// An END_REQUEST record arrived.
    var ended = false
    var appStatus: Int32?

    /// The CGI response's header block and body (split at the first blank line).
    private var parts: (head: String, body: [UInt8]) {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let index = (0...max(0, stdout.count - separator.count)).first(where: {
            stdout.count >= $0 + separator.count && Array(stdout[$0..<($0 + separator.count)]) == separator
        }) else { return (String(decoding: stdout, as: UTF8.self), []) }
        return (String(decoding: stdout[..<index], as: UTF8.self), Array(stdout[(index + separator.count)...]))
    }

    /// The `Status:` header's code (CGI: absent means 200).
    var status: Int? {
        guard !stdout.isEmpty else { return nil }
        for line in parts.head.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("status:") {
            return Int(line.dropFirst("status:".count).trimmingCharacters(in: .whitespaces).prefix(3))
        }
        return 200
    }

    var json: JSONValue? { JSONValue.parse(Data(parts.body)) }

    var description: String {
        "FastCGI \(ended ? "ended" : "not ended") app status \(appStatus.map(String.init) ?? "-"): "
            + String(decoding: stdout, as: UTF8.self) + (stderr.isEmpty ? "" : " stderr: " + String(decoding: stderr, as: UTF8.self))
    }
}
