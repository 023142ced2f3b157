/// A strict RFC 8259 reader for the one shape pixelhook accepts: a JSON object whose members
/// are judged by name, with only top-level string values ever extracted.
///
/// Why not Foundation's `JSONDecoder`: on Linux it only checks the values it decodes, so a body
/// with a trailing comma, a bad escape or `01` inside an unknown member was accepted, stored and
/// handed to a handler whose own parser then refused it; and it silently keeps the first of
/// two members with the same name, where `jq` and Python keep the last (a way round the project
/// allow-list). This reader validates the whole document, rejects a repeated top-level name,
/// bounds nesting depth, and never recurses on the native stack.
public enum JSONScanner {
    /// A top-level member's value, reduced to what the envelope needs.
    public enum Value: Sendable, Equatable {
        case string(String)
        case null
        /// A number, boolean, array or object: named for the error message.
        case other(kind: String)
    }

    public struct SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        /// Byte offset where the document stopped making sense.
        public let offset: Int
        public var description: String { "\(message) at byte \(offset)" }
    }

    public static let maximumDepth = 64

    /// The members of the top-level object, or `nil` when the document is valid JSON but not
    /// an object (the caller says so in its own words).
    public static func topLevelMembers(_ bytes: [UInt8]) throws(SyntaxError) -> [String: Value]? {
        var reader = Reader(bytes: bytes)
        reader.skipWhitespace()
        guard reader.peek == UInt8(ascii: "{") else {
            try reader.skipValue()
            try reader.expectEnd()
            return nil
        }
        reader.index += 1
        var members: [String: Value] = [:]
        reader.skipWhitespace()
        if reader.peek == UInt8(ascii: "}") {
            reader.index += 1
        } else {
            while true {
                reader.skipWhitespace()
                let nameOffset = reader.index
                let name = try reader.readString()
                reader.skipWhitespace()
                try reader.expect(UInt8(ascii: ":"))
                reader.skipWhitespace()
                let value: Value
                switch reader.peek {
                case UInt8(ascii: "\""): value = .string(try reader.readString())
                case UInt8(ascii: "n"): try reader.skipValue(); value = .null
                case UInt8(ascii: "t"), UInt8(ascii: "f"): try reader.skipValue(); value = .other(kind: "a boolean")
                case UInt8(ascii: "["): try reader.skipValue(enclosing: 1); value = .other(kind: "an array")
                case UInt8(ascii: "{"): try reader.skipValue(enclosing: 1); value = .other(kind: "an object")
                default: try reader.skipValue(); value = .other(kind: "a number")
                }
                guard members.updateValue(value, forKey: name) == nil else {
                    throw SyntaxError(message: "member \(JSONObject.quote(name)) appears twice", offset: nameOffset)
                }
                reader.skipWhitespace()
                if reader.peek == UInt8(ascii: ",") { reader.index += 1; continue }
                try reader.expect(UInt8(ascii: "}"))
                break
            }
        }
        try reader.expectEnd()
        return members
    }

    /// True when `bytes` is one complete, valid JSON document.
    public static func isValid(_ bytes: [UInt8]) -> Bool {
        var reader = Reader(bytes: bytes)
        do {
            try reader.skipValue()
            try reader.expectEnd()
            return true
        } catch {
            return false
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var index = 0

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        func fail(_ message: String) -> SyntaxError { SyntaxError(message: message, offset: index) }

        mutating func skipWhitespace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func expect(_ byte: UInt8) throws(SyntaxError) {
            guard peek == byte else {
                throw fail(peek == nil ? "unexpected end of JSON" : "expected '\(Character(Unicode.Scalar(byte)))'")
            }
            index += 1
        }

        mutating func expectEnd() throws(SyntaxError) {
            skipWhitespace()
            guard index == bytes.count else { throw fail("unexpected data after the JSON value") }
        }

        mutating func literal(_ word: String) throws(SyntaxError) {
            for byte in word.utf8 { try expect(byte) }
        }

        /// Skips one value of any kind. Containers are tracked with an explicit stack, so
        /// nesting costs heap, not native stack, and stops at `maximumDepth`, counting the
        /// `enclosing` containers the value sits in (1 for a member of the top-level object).
        mutating func skipValue(enclosing: Int = 0) throws(SyntaxError) {
            var open: [UInt8] = []  // '{' or '[' for each container we are inside
            var expectingValue = true
            while true {
                skipWhitespace()
                if expectingValue {
                    guard let byte = peek else { throw fail("unexpected end of JSON") }
                    switch byte {
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        guard open.count + enclosing < JSONScanner.maximumDepth else {
                            throw fail("nesting deeper than \(JSONScanner.maximumDepth) levels")
                        }
                        index += 1
                        open.append(byte)
                        skipWhitespace()
                        if peek == (byte == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                            index += 1
                            open.removeLast()
                            expectingValue = false
                        } else if byte == UInt8(ascii: "{") {
                            _ = try readString()
                            skipWhitespace()
                            try expect(UInt8(ascii: ":"))
                        }
                        continue
                    case UInt8(ascii: "\""): _ = try readString()
                    case UInt8(ascii: "t"): try literal("true")
                    case UInt8(ascii: "f"): try literal("false")
                    case UInt8(ascii: "n"): try literal("null")
                    default: try skipNumber()
                    }
                    expectingValue = false
                }
                guard let container = open.last else { return }
                skipWhitespace()
                guard let byte = peek else { throw fail("unexpected end of JSON") }
                if byte == UInt8(ascii: ",") {
                    index += 1
                    if container == UInt8(ascii: "{") {
                        skipWhitespace()
                        _ = try readString()
                        skipWhitespace()
                        try expect(UInt8(ascii: ":"))
                    }
                    expectingValue = true
                } else {
                    try expect(container == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]"))
                    open.removeLast()
                }
            }
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func skipNumber() throws(SyntaxError) {
            func digits() -> Int {
                let start = index
                while let byte = peek, byte >= 0x30, byte <= 0x39 { index += 1 }
                return index - start
            }
            if peek == UInt8(ascii: "-") { index += 1 }
            guard let first = peek, first >= 0x30, first <= 0x39 else { throw fail("invalid value") }
            if first == 0x30 { index += 1 } else { _ = digits() }
            if peek == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw fail("invalid number") }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                index += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw fail("invalid number") }
            }
            if let byte = peek, byte >= 0x30, byte <= 0x39 { throw fail("invalid number (leading zero)") }
        }

        /// Reads a string, decoding escapes; the input must already be valid UTF-8.
        mutating func readString() throws(SyntaxError) -> String {
            try expect(UInt8(ascii: "\""))
            var out: [UInt8] = []
            while true {
                guard let byte = peek else { throw fail("unterminated string") }
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let escape = peek else { throw fail("unterminated string") }
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"): out += try unicodeEscape()
                    default: throw fail("invalid escape in string")
                    }
                case 0x00..<0x20:
                    throw fail("control character in string (must be escaped)")
                default:
                    out.append(byte)
                }
            }
        }

        /// `\uXXXX`, with a following `\uXXXX` for a surrogate pair; lone surrogates are errors.
        mutating func unicodeEscape() throws(SyntaxError) -> [UInt8] {
            var scalarValue = try hex4()
            if (0xD800...0xDBFF).contains(scalarValue) {
                guard peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("lone surrogate in string")
                }
                index += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw fail("lone surrogate in string") }
                scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalarValue) {
                throw fail("lone surrogate in string")
            }
            guard let scalar = Unicode.Scalar(scalarValue) else { throw fail("invalid \\u escape") }
            return Array(String(Character(scalar)).utf8)
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = peek else { throw fail("unterminated \\u escape") }
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                default: throw fail("invalid \\u escape")
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }
    }
}
