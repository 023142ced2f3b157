import Testing
@testable import PixelhookCore

/// Found by the fuzz target: quotes were looked for among `Character`s, and a quote followed
/// by a combining mark is one `Character`, so `KEY="\u{5A0}_"` kept its quotes in the value.
@Suite("ConfigFile quoting")
struct ConfigFileQuotingTests {
    @Test("a quoted value may start with a combining mark", arguments: [
        ("PIXELHOOK_HANDLER_TIMEOUT=\"\u{5A0}_\"", "\u{5A0}_"),
        ("PIXELHOOK_TOKEN='\u{301}x' # note", "\u{301}x"),
        ("PIXELHOOK_TOKEN=\" \u{301}x\"", " \u{301}x"),
    ])
    func quotedCombiningMark(line: String, value: String) throws {
        let parsed = try #require(try ConfigFile.parse(line).values.first)
        #expect(Array(parsed.unicodeScalars) == Array(value.unicodeScalars))
    }

    @Test("a combining mark right after the closing quote is text after it")
    func combiningMarkAfterClosingQuote() {
        #expect(throws: SettingsError.self) { try ConfigFile.parse("PIXELHOOK_TOKEN='x'\u{301}") }
    }
}
