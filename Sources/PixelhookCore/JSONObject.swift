/// A flat JSON object written in field order, for responses, result records and log lines.
///
/// Foundation's `JSONEncoder` would do, but it costs a reflection pass per call on the CGI hot
/// path and does not keep field order; these bodies are a handful of scalar fields.
public struct JSONObject: Sendable, Equatable, CustomStringConvertible {
    /// The members rendered so far, comma-separated, without braces. Built by appending:
    /// the stdlib's generic `joined(separator:)` resolves its types at run time, which cost a
    /// quarter of a CGI start.
    private var members = ""

    public init() {}

    public func string(_ key: String, _ value: String?) -> JSONObject {
        adding(key, value.map(JSONObject.quote) ?? "null")
    }

    public func bool(_ key: String, _ value: Bool) -> JSONObject {
        adding(key, value ? "true" : "false")
    }

    public func int(_ key: String, _ value: Int?) -> JSONObject {
        adding(key, value.map { String($0) } ?? "null")
    }

    public func double(_ key: String, _ value: Double) -> JSONObject {
        adding(key, value.isFinite ? String(value) : "null")
    }

    public func object(_ key: String, _ value: JSONObject) -> JSONObject {
        adding(key, value.description)
    }

    public func objects(_ key: String, _ values: [JSONObject]) -> JSONObject {
        var list = "["
        for (index, value) in values.enumerated() {
            if index > 0 { list += "," }
            list += value.description
        }
        return adding(key, list + "]")
    }

    public var description: String { "{" + members + "}" }

    public var bytes: [UInt8] { Array(description.utf8) }

    private func adding(_ key: String, _ rendered: String) -> JSONObject {
        var copy = self
        if !copy.members.isEmpty { copy.members += "," }
        copy.members += JSONObject.quote(key) + ":" + rendered
        return copy
    }

    /// RFC 8259 string escaping; everything outside ASCII control characters passes through.
    public static func quote(_ text: String) -> String {
        // Most values (event names, ids, times) need no escaping at all.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
