import Foundation
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The HTTP client: curl, one process a request, the answer in files of the fixture's directory.
extension WebServerFixture {
    /// Sends one request and waits for the answer.
    @discardableResult
    func request(_ method: String, body: Data? = nil, contentType: String? = "application/json",
                 query: String = "", headers: [String] = [], chunked: Bool = false, path: String? = nil) throws -> HTTPReply {
        try startRequest(method, body: body, contentType: contentType, query: query, headers: headers, chunked: chunked, path: path).wait()
    }

    /// - Parameter path: another URL path (an extra location); default: the gateway's.
    @discardableResult
    func post(_ body: Data, query: String = "", headers: [String] = [], path: String? = nil) throws -> HTTPReply {
        try request("POST", body: body, query: query, headers: headers, path: path)
    }

    /// Starts one curl and returns at once: many may be in flight together.
    func startRequest(_ method: String, body: Data? = nil, contentType: String? = "application/json",
                      query: String = "", headers: [String] = [], chunked: Bool = false, path: String? = nil) throws -> PendingRequest {
        let files = directory + "/requests/\(counter.next())"
        var arguments = ["-s", "-S", "--noproxy", "*", "-m", "30", "-D", files + ".head", "-w", "%{http_code}", "-H", "Expect:"]
        // curl --head reads no body (and would write the headers to -o).
        if method == "HEAD" {
            arguments += ["--head", "-o", "/dev/null"]
        } else {
            arguments += ["-X", method, "-o", files + ".body"]
        }
        if let body {
            try body.write(to: URL(fileURLWithPath: files + ".request"))
            arguments += ["--data-binary", "@" + files + ".request"]
            if chunked { arguments += ["-H", "Transfer-Encoding: chunked"] }
        }
        if let contentType { arguments += ["-H", "Content-Type: " + contentType] } else if body != nil { arguments += ["-H", "Content-Type:"] }
        for header in headers { arguments += ["-H", header] }
        let target = url(path: path ?? gateway.path)
        arguments.append(query.isEmpty ? target : target + "?" + query)
        return try PendingRequest(arguments: arguments, files: files)
    }
}

/// Unique request file names within one fixture.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int { lock.withLock { value += 1; return value } }
}
