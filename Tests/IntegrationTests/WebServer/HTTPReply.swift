import Foundation
import PixelhookTestSupport

/// One curl run in flight: `curl -s -o BODY -D HEADERS -w '%{http_code}' …`, the code written
/// to `FILES.code`.
final class PendingRequest {
    private let process: ChildProcess
    private let files: String
    private let started = Date()

    init(arguments: [String], files: String) throws {
        self.files = files
        process = try ChildProcess(try InstalledTool.path("curl"), arguments, environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"],
                                   stdout: files + ".code", stderr: "/dev/null")
    }

    /// The answer; status 0 when curl got none (connection refused, timeout).
    func wait() throws -> HTTPReply {
        process.waitForExit()  // bounded by curl's own -m
        let seconds = Date().timeIntervalSince(started)
        let code = (try? String(contentsOfFile: files + ".code", encoding: .utf8)) ?? ""
        let head = (try? String(contentsOfFile: files + ".head", encoding: .utf8)) ?? ""
        let body = FileManager.default.contents(atPath: files + ".body") ?? Data()
        return HTTPReply(status: Int(code) ?? 0, headers: HTTPReply.parseHeaders(head), body: body, seconds: seconds)
    }
}

/// What the web server answered.
struct HTTPReply: CustomStringConvertible {
    let status: Int
    /// The final header block (after any `100 Continue`), names as sent.
    let headers: [(name: String, value: String)]
    let body: Data
    /// Wall time from starting curl to its exit.
    let seconds: Double

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var contentType: String? { header("Content-Type") }
    var json: JSONValue? { JSONValue.parse(body) }
    var text: String { String(decoding: body, as: UTF8.self) }

    var description: String {
        "HTTP \(status) [\(headers.map { "\($0.name): \($0.value)" }.joined(separator: "; "))] \(text)"
    }

    static func parseHeaders(_ text: String) -> [(name: String, value: String)] {
        let blocks = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n")
            .filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        guard let last = blocks.last else { return [] }
        return last.split(separator: "\n").dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
    }
}
