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
        process = try ChildProcess(try WebServerFixture.tool("curl"), arguments, environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"],
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

/// A JSON value compared exactly: `true` is not `1`, and key order does not matter.
enum JSONValue: Equatable, Decodable, CustomStringConvertible, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    static func parse(_ data: Data) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: data) }

    init(stringLiteral value: String) { self = .string(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(integerLiteral value: Int) { self = .number(Double(value)) }
    init(nilLiteral: ()) { self = .null }
    init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .number(let value): String(value)
        case .string(let value): "\"\(value)\""
        case .array(let values): "[" + values.map(\.description).joined(separator: ",") + "]"
        case .object(let fields): "{" + fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
        }
    }
}
