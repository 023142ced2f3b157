import Foundation
import Testing
@testable import PixelhookCore

@Suite("JSONObject")
struct JSONObjectTests {
    @Test("quoting escapes quotes, backslashes and control characters", arguments: [
        ("", #""""#),
        ("plain", #""plain""#),
        ("say \"hi\"", #""say \"hi\"""#),
        ("a\\b", #""a\\b""#),
        ("a\nb\rc\td", #""a\nb\rc\td""#),
        ("\u{0}", #""\u0000""#),
        ("\u{1}\u{8}\u{C}", #""\u0001\u0008\u000c""#),
        ("\u{1F}", #""\u001f""#),
        ("\u{7F}", #""\u007f""#),
        ("/", #""/""#),
        (" ", #"" ""#),
    ])
    func quote(text: String, expected: String) {
        #expect(JSONObject.quote(text) == expected)
    }

    @Test("non-ASCII passes through unescaped", arguments: ["héllo", "日本語", "🚀", "\u{2028}", "\u{80}", "a\u{301}"])
    func nonASCII(text: String) {
        #expect(JSONObject.quote(text) == "\"" + text + "\"")
    }

    @Test("every control character is escaped and the result decodes back", arguments: Array(0..<0x20) + [0x7F])
    func controlCharacterRoundTrip(value: UInt32) throws {
        let text = "a" + String(Character(Unicode.Scalar(value)!)) + "b"
        let quoted = JSONObject.quote(text)
        #expect(!quoted.unicodeScalars.dropFirst().dropLast().contains { $0.value < 0x20 || $0.value == 0x7F })
        let decoded = try JSONDecoder().decode(String.self, from: Data(quoted.utf8))
        #expect(decoded == text)
    }

    @Test("hostile strings round-trip through a real JSON decoder", arguments: [
        "\"\\\"\\\\", "</script>", "\u{0}\u{1}\n\"\\", "mixed é \u{1B}[31m red \u{1B}[0m", String(repeating: "\\\"", count: 50),
    ])
    func roundTrip(text: String) throws {
        let decoded = try JSONDecoder().decode(String.self, from: Data(JSONObject.quote(text).utf8))
        #expect(decoded == text)
    }

    @Test("fields are written in order, with null for nil")
    func fieldsInOrder() {
        let object = JSONObject()
            .string("b", "x").bool("a", true).int("n", 42).int("none", nil).string("s", nil)
            .bool("f", false).double("d", 1.5).double("inf", .infinity).double("nan", .nan)
            .object("o", JSONObject().int("z", -1))
        #expect(object.description ==
            #"{"b":"x","a":true,"n":42,"none":null,"s":null,"f":false,"d":1.5,"inf":null,"nan":null,"o":{"z":-1}}"#)
        #expect(object.bytes == Array(object.description.utf8))
    }

    @Test("keys are quoted too")
    func keysQuoted() {
        #expect(JSONObject().int("a\"b", 1).description == #"{"a\"b":1}"#)
    }

    @Test("an empty object is {}")
    func empty() {
        #expect(JSONObject().description == "{}")
    }

    @Test("building is by value: adding a field leaves the original unchanged")
    func valueSemantics() {
        let base = JSONObject().int("a", 1)
        let extended = base.int("b", 2)
        #expect(base.description == #"{"a":1}"#)
        #expect(extended.description == #"{"a":1,"b":2}"#)
    }

    @Test("the output is valid JSON that Foundation reads back")
    func validJSON() throws {
        let object = JSONObject().string("event", "build.rejected").string("reason", "bad \"zip\"\n\u{0}")
            .int("status", 403).bool("ok", false).string("uploadId", nil)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(object.bytes)) as? [String: Any])
        #expect(parsed["event"] as? String == "build.rejected")
        #expect(parsed["reason"] as? String == "bad \"zip\"\n\u{0}")
        #expect(parsed["status"] as? Int == 403)
        #expect(parsed["ok"] as? Bool == false)
        #expect(parsed["uploadId"] is NSNull)
    }
}
