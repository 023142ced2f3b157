import Testing
@testable import PixelhookCore

@Suite("DurationText")
struct DurationTextTests {
    @Test("a number and one unit", arguments: [
        ("90s", 90), ("30m", 1800), ("12h", 43_200), ("7d", 604_800), ("2w", 1_209_600), ("1s", 1),
        ("0001h", 3600), ("3650d", 3650 * 86_400),
    ])
    func valid(text: String, seconds: Int) {
        #expect(DurationText.seconds(text) == seconds)
    }

    @Test("anything else is refused", arguments: [
        "", "5x", "5", "h", "-5m", "+5m", "0s", "0d", "1.5h", " 5m", "5m ", "5 m", "5M", "5mm", "1h30m",
        "3651d", "99999999999w", "٣m", "5\u{0}m",
    ])
    func invalid(text: String) {
        #expect(DurationText.seconds(text) == nil)
    }

    @Test("described by its two largest units", arguments: [
        (0, "0ms"), (850, "850ms"), (1000, "1s"), (42_000, "42s"), (125_000, "2m 5s"), (3_600_000, "1h"),
        (3_660_000, "1h 1m"), (3_601_000, "1h"), (11_520_000, "3h 12m"), (187_200_000, "2d 4h"), (-2000, "-2s"),
    ])
    func describe(milliseconds: Int, text: String) {
        #expect(DurationText.describe(milliseconds: milliseconds) == text)
    }
}
