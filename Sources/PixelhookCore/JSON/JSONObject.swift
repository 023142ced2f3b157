/// A flat JSON object written in field order, for responses, result records and log lines.
///
/// Foundation's `JSONEncoder` would do, but it costs a reflection pass per call on the CGI hot
/// path and does not keep field order; these bodies are a handful of scalar fields. The
/// members are rendered straight into bytes: every request writes two of these.
public struct JSONObject: Sendable, Equatable, CustomStringConvertible {
    /// The members rendered so far, comma-separated, without braces.
    private var members: [UInt8] = []

    public init() {}

    public consuming func string(_ key: String, _ value: String?) -> JSONObject {
        var copy = self
        copy.appendKey(key)
        if let value { JSONObject.appendQuoted(value, to: &copy.members) } else { copy.members += JSONObject.null }
        return copy
    }

    public consuming func bool(_ key: String, _ value: Bool) -> JSONObject {
        adding(key, value ? "true" : "false")
    }

    public consuming func int(_ key: String, _ value: Int?) -> JSONObject {
        adding(key, value.map { String($0) } ?? "null")
    }

    public consuming func double(_ key: String, _ value: Double) -> JSONObject {
        adding(key, value.isFinite ? String(value) : "null")
    }

    public consuming func object(_ key: String, _ value: JSONObject) -> JSONObject {
        var copy = self
        copy.appendKey(key)
        copy.members += value.bytes
        return copy
    }

    public consuming func objects(_ key: String, _ values: [JSONObject]) -> JSONObject {
        array(key, values) { value, members in members += value.bytes }
    }

    public consuming func strings(_ key: String, _ values: [String]) -> JSONObject {
        array(key, values) { value, members in JSONObject.appendQuoted(value, to: &members) }
    }

    /// `key: [ … ]`, each element written by `append`.
    private consuming func array<Element>(_ key: String, _ values: [Element],
                                          _ append: (Element, inout [UInt8]) -> Void) -> JSONObject {
        var copy = self
        copy.appendKey(key)
        copy.members.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { copy.members.append(UInt8(ascii: ",")) }
            append(value, &copy.members)
        }
        copy.members.append(UInt8(ascii: "]"))
        return copy
    }

    public var description: String { String(decoding: bytes, as: UTF8.self) }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(members.count + 2)
        out.append(UInt8(ascii: "{"))
        out += members
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static let null = Array("null".utf8)

    private consuming func adding(_ key: String, _ rendered: String) -> JSONObject {
        var copy = self
        copy.appendKey(key)
        copy.members += rendered.utf8
        return copy
    }

    private mutating func appendKey(_ key: String) {
        if !members.isEmpty { members.append(UInt8(ascii: ",")) }
        JSONObject.appendQuoted(key, to: &members)
        members.append(UInt8(ascii: ":"))
    }

    /// RFC 8259 string escaping; everything outside ASCII control characters passes through.
    public static func quote(_ text: String) -> String {
        var out: [UInt8] = []
        appendQuoted(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + text.utf8.count + 2)
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                        hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default:
                // UTF-8 bytes of non-ASCII scalars are copied as they are: a Swift String is
                // valid UTF-8, so the output is too.
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
