import PixelhookCore

extension FuzzTarget {
    /// `JSONScanner`'s three readers agree on what is one valid document, and strings that it
    /// decodes survive `JSONObject.quote` unchanged.
    static func json(_ bytes: [UInt8]) {
        let valid = JSONScanner.isValid(bytes)
        let isUTF8 = String(validating: bytes, as: UTF8.self) != nil
        let startsObject = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: "{")
        let members: [String: JSONScanner.Value]?
        do {
            members = try JSONScanner.topLevelMembers(bytes)
            Invariant.check(valid, "topLevelMembers accepted a document isValid refuses")
            Invariant.check((members != nil) == startsObject, "topLevelMembers object/non-object mismatch")
        } catch {
            Invariant.check(!valid || error.message.hasSuffix("appears twice"), "valid document refused: \(error)")
            members = nil
        }
        let scalars = JSONScanner.scalarMembers(bytes)
        if scalars != nil {
            Invariant.check(valid && isUTF8 && startsObject, "scalarMembers read a document that is not one valid object")
        } else if let members, isUTF8 {
            Invariant.check(false, "scalarMembers refused an object topLevelMembers read (\(members.count) members)")
        }
        if let members, let scalars {
            Invariant.check(Set(members.keys) == Set(scalars.keys), "the two readers found different members")
            for (name, value) in members {
                switch (value, scalars[name]) {
                case (.string(let a), .string(let b)?): Invariant.check(Invariant.sameBytes(a, b), "member \(name) read two ways")
                case (.null, .null?): break
                case (.other, .integer?), (.other, .bool?), (.other, .other?): break
                default: Invariant.check(false, "member \(name): \(value) vs \(String(describing: scalars[name]))")
                }
            }
        }
        for case .string(let text) in members.map({ Array($0.values) }) ?? [] {
            quoted(text)
            timestamp(text)
        }
    }

    /// `JSONObject.quote` writes a string `JSONScanner` reads back byte for byte.
    static func quoted(_ text: String) {
        let written = Array(JSONObject().string("s", text).description.utf8)
        let back = (try? JSONScanner.topLevelMembers(written)).flatMap { $0?["s"] }
        guard case .string(let again)? = back else {
            Invariant.check(false, "quoted string does not read back: \(JSONObject.quote(text))")
            return
        }
        Invariant.check(Invariant.sameBytes(again, text), "quoted string reads back changed")
    }
}
