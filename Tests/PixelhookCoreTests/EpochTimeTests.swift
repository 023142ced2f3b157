import Testing
@testable import PixelhookCore

@Suite("EpochTime")
struct EpochTimeTests {
    // Expected values from `date -u -d … +%s`.
    @Test("ISO 8601 to milliseconds, zones and fractions applied", arguments: [
        ("2026-03-29T12:30:00Z", 1_774_787_400_000),
        ("2026-03-29T12:30:00.250Z", 1_774_787_400_250),
        ("2026-03-29T14:30:00.250+02:00", 1_774_787_400_250),
        ("2026-03-29T10:00:00-0230", 1_774_787_400_000),
        ("2026-03-29t12:30:00.1234567z", 1_774_787_400_123),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59Z", -1000),
        ("2000-02-29T00:00:00Z", 951_782_400_000),
    ])
    func parse(text: String, milliseconds: Int) {
        #expect(EpochTime.milliseconds(iso8601: text) == milliseconds)
    }

    @Test("text the timestamp profile refuses is nil", arguments: ["", "2026-03-29", "2026-02-30T00:00:00Z", "2026-03-29T12:30:00"])
    func refused(text: String) {
        #expect(EpochTime.milliseconds(iso8601: text) == nil)
    }

    @Test("milliseconds to ISO 8601 UTC", arguments: [
        (0, "1970-01-01T00:00:00.000Z"), (1_774_787_400_250, "2026-03-29T12:30:00.250Z"),
        (-1, "1969-12-31T23:59:59.999Z"), (951_782_400_000, "2000-02-29T00:00:00.000Z"),
    ])
    func format(milliseconds: Int, text: String) {
        #expect(EpochTime.iso8601(milliseconds: milliseconds) == text)
    }

    @Test("round trip over four centuries of days")
    func roundTrip() {
        for day in stride(from: -146_097, through: 146_097, by: 97) {
            let milliseconds = day * 86_400_000 + 45_296_789
            #expect(EpochTime.milliseconds(iso8601: EpochTime.iso8601(milliseconds: milliseconds)) == milliseconds)
        }
    }
}
