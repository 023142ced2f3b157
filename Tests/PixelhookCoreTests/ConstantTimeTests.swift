import Testing
@testable import PixelhookCore

@Suite("ConstantTime")
struct ConstantTimeTests {
    @Test("equal strings compare equal", arguments: ["", "a", "s3cret", "héllo", String(repeating: "x", count: 1_000)])
    func equal(text: String) {
        #expect(ConstantTime.equals(text, text))
        #expect(ConstantTime.equals(text, String(text)))
    }

    @Test("different strings compare different", arguments: [
        ("s3cret", "s3creT"), ("s3cret", "S3cret"), ("s3cret", "s3cre"), ("s3cret", "s3cret "),
        ("", "a"), ("a", ""), ("a\u{0}", "a"), ("a", "a\u{0}"), ("é", "e\u{301}"),
    ])
    func different(lhs: String, rhs: String) {
        #expect(!ConstantTime.equals(lhs, rhs))
    }

    @Test("lengths that differ by a multiple of 256 still compare different")
    func lengthWrap() {
        let nul256 = String(repeating: "\u{0}", count: 256)
        #expect(!ConstantTime.equals(nul256, ""))
        #expect(!ConstantTime.equals("", nul256))
        #expect(!ConstantTime.equals("a" + nul256, "a"))
    }
}
