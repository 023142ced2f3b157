import Testing
@testable import PixelhookCore

@Suite("JSONScanner") struct JSONScannerTests {
    @Test("valid RFC 8259 documents", arguments: [
        "{}", "[]", "0", "-0.5e+10", "1E3", "\"\"", "true", "null", " {\"a\" : [1, {\"b\": [null]}] } ",
        #"{"s":"\u00e9\ud83d\ude00\/\b\f\n\r\t\\\""}"#,
    ])
    func valid(text: String) {
        #expect(JSONScanner.isValid(Array(text.utf8)))
    }

    @Test("invalid documents", arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "+1", "1e", "tru", "nul", "\"\\x\"",
        "\"\\ud800\"", "\"\\udc00\"", "\"\\u12\"", "[1 2]", "{\"a\" 1}", "{1:2}", "{} []", "\"a\tb\"",
    ])
    func invalid(text: String) {
        #expect(!JSONScanner.isValid(Array(text.utf8)))
    }

    @Test func decodesEscapesInTopLevelStrings() throws {
        let members = try #require(try JSONScanner.topLevelMembers(Array(#"{"a":"x\u00e9\ud83d\ude00\n","b":null,"c":[1],"d":2,"e":false,"f":{}}"#.utf8)))
        #expect(members["a"] == .string("xé😀\n"))
        #expect(members["b"] == .null)
        #expect(members["c"] == .other(kind: "an array"))
        #expect(members["d"] == .other(kind: "a number"))
        #expect(members["e"] == .other(kind: "a boolean"))
        #expect(members["f"] == .other(kind: "an object"))
    }

    @Test func aDocumentThatIsNotAnObjectHasNoMembers() throws {
        #expect(try JSONScanner.topLevelMembers(Array("[1,2]".utf8)) == nil)
        #expect(try JSONScanner.topLevelMembers(Array("null".utf8)) == nil)
    }

    @Test func aRepeatedTopLevelNameIsAnError() {
        #expect(throws: JSONScanner.SyntaxError.self) {
            try JSONScanner.topLevelMembers(Array(#"{"a":1,"b":2,"a":3}"#.utf8))
        }
        // Nested objects may repeat names of the top level.
        #expect((try? JSONScanner.topLevelMembers(Array(#"{"a":{"a":1}}"#.utf8))) != nil)
    }

    @Test func nestingIsBoundedWithoutRecursion() {
        let limit = JSONScanner.maximumDepth
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        let tooDeep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(JSONScanner.isValid(Array(deepest.utf8)))
        #expect(!JSONScanner.isValid(Array(tooDeep.utf8)))
        #expect(!JSONScanner.isValid(Array(String(repeating: "{\"a\":", count: 100_000).utf8)))
    }
}
