import Testing
@testable import PixelhookCore

/// Found by the fuzz target (`fuzz/corpus/body-deep-65`): `topLevelMembers` did not count the
/// top-level object, so it read a document one level deeper than `isValid` allows.
@Suite("JSON nesting depth")
struct JSONNestingDepthTests {
    /// An object whose member `a` is nested so that the document is `levels` containers deep.
    static func nested(levels: Int) -> [UInt8] {
        Array((String(repeating: #"{"a":"#, count: levels) + "1" + String(repeating: "}", count: levels)).utf8)
    }

    @Test("a document exactly maximumDepth deep is read by every reader")
    func atTheLimit() throws {
        let body = Self.nested(levels: JSONScanner.maximumDepth)
        #expect(JSONScanner.isValid(body))
        #expect(try JSONScanner.topLevelMembers(body)?["a"] == .other(kind: "an object"))
        #expect(JSONScanner.scalarMembers(body)?["a"] == .other)
    }

    @Test("one level more is refused by every reader, the top-level object included")
    func pastTheLimit() {
        let body = Self.nested(levels: JSONScanner.maximumDepth + 1)
        #expect(!JSONScanner.isValid(body))
        #expect(throws: JSONScanner.SyntaxError.self) { try JSONScanner.topLevelMembers(body) }
        #expect(JSONScanner.scalarMembers(body) == nil)
    }

    @Test("an envelope whose extra member takes the document past the limit is a 400")
    func envelopePastTheLimit() throws {
        let extra = String(repeating: "[", count: JSONScanner.maximumDepth) + String(repeating: "]", count: JSONScanner.maximumDepth)
        let error = try #require(Fixture.parseError(Fixture.approved(adding: [("extra", extra)])))
        #expect(error.status == 400)
        #expect(error.reason.contains("nesting deeper than \(JSONScanner.maximumDepth) levels"))
    }
}
