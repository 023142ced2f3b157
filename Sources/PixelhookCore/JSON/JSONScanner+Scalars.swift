extension JSONScanner {
    /// A top-level member read back in full, numbers included.
    public enum Scalar: Sendable, Equatable {
        case string(String)
        case integer(Int)
        case bool(Bool)
        case null
        /// A fraction, an exponent, an integer too large for `Int`, an array or an object.
        case other
    }

    /// The members of a flat JSON object with their values, for reading back the records
    /// pixelhook writes itself (`EVENT.result`); nil when `bytes` is not one valid object.
    /// Requests are read with `topLevelMembers`, which never converts a number.
    public static func scalarMembers(_ bytes: [UInt8]) -> [String: Scalar]? {
        guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
        var reader = Reader(bytes: bytes)
        var members: [String: Scalar] = [:]
        do {
            reader.skipWhitespace()
            try reader.expect(UInt8(ascii: "{"))
            reader.skipWhitespace()
            if reader.peek == UInt8(ascii: "}") {
                reader.index += 1
                try reader.expectEnd()
                return members
            }
            while true {
                reader.skipWhitespace()
                let name = try reader.readString()
                reader.skipWhitespace()
                try reader.expect(UInt8(ascii: ":"))
                reader.skipWhitespace()
                let start = reader.index
                switch reader.peek {
                case UInt8(ascii: "\""): members[name] = .string(try reader.readString())
                case UInt8(ascii: "n"): try reader.literal("null"); members[name] = .null
                case UInt8(ascii: "t"): try reader.literal("true"); members[name] = .bool(true)
                case UInt8(ascii: "f"): try reader.literal("false"); members[name] = .bool(false)
                default:
                    try reader.skipValue(enclosing: 1)
                    let text = String(decoding: bytes[start..<reader.index], as: UTF8.self)
                    members[name] = Int(text).map(Scalar.integer) ?? .other
                }
                reader.skipWhitespace()
                if reader.peek == UInt8(ascii: ",") { reader.index += 1; continue }
                try reader.expect(UInt8(ascii: "}"))
                break
            }
            try reader.expectEnd()
        } catch {
            return nil
        }
        return members
    }
}
