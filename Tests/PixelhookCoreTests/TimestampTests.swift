import Testing
@testable import PixelhookCore

@Suite("Timestamp")
struct TimestampTests {
    @Test("accepted ISO 8601 date-times", arguments: [
        "2026-03-29T14:30:00Z",
        "2026-03-29T14:30:00.000Z",     // what Streampixel sends
        "2026-03-29T14:30:00.1Z",       // 1 fraction digit
        "2026-03-29T14:30:00.123456789Z",  // 9 fraction digits
        "2026-03-29T14:30:00+02:00",
        "2026-03-29T14:30:00-0530",
        "2026-03-29T14:30:00.5-05:30",
        "2026-03-29T14:30:00+23:59",
        "2026-03-29t14:30:00z",         // lowercase t and z
        "2024-02-29T00:00:00Z",         // leap day
        "2000-02-29T00:00:00Z",         // divisible by 400: leap
        "2016-12-31T23:59:60Z",         // leap second
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z",
        "2026-04-30T00:00:00Z",
        "2026-01-31T00:00:00Z",
    ])
    func valid(text: String) {
        #expect(Timestamp.isISO8601(text))
    }

    @Test("rejected strings", arguments: [
        "",
        "2026-03-29",                   // date only
        "2026-03-29T14:30:00",          // no zone
        "2026-03-29T14:30:00.000",      // fraction, no zone
        "2023-02-29T00:00:00Z",         // not a leap year
        "1900-02-29T00:00:00Z",         // divisible by 100, not by 400
        "2026-04-31T00:00:00Z",         // April has 30 days
        "2026-13-01T00:00:00Z",         // month 13
        "2026-00-01T00:00:00Z",         // month 0
        "2026-03-00T00:00:00Z",         // day 0
        "2026-03-32T00:00:00Z",
        "2026-03-29T24:00:00Z",         // hour 24
        "2026-03-29T14:60:00Z",
        "2026-03-29T14:30:61Z",
        "2026-03-29T14:30:00.1234567890Z",  // 10 fraction digits
        "2026-03-29T14:30:00.Z",        // empty fraction
        "2026-03-29T14:30:00Zjunk",     // trailing junk
        "2026-03-29T14:30:00Z ",
        " 2026-03-29T14:30:00Z",
        "2026-03-29T14:30:00+02:00x",
        "2026-03-29T14:30:00+24:00",    // offset hour out of range
        "2026-03-29T14:30:00+02:60",    // offset minute out of range
        "2026-03-29T14:30:00+02",       // offset without minutes
        "2026-03-29T14:30:00+2:00",
        "2026-03-29 14:30:00Z",         // space instead of T
        "2026-03-29X14:30:00Z",
        "2026-3-29T14:30:00Z",
        "26-03-29T14:30:00Z",
        "2026-03-29T14:30Z",            // no seconds
        "2026/03/29T14:30:00Z",
        "2026-03-29T14:30:00UTC",
        "２０２６-03-29T14:30:00Z",       // full-width digits
        "yesterday",
    ])
    func invalid(text: String) {
        #expect(!Timestamp.isISO8601(text))
    }

    @Test("days in month, with the Gregorian leap-year rule", arguments: [
        (1, 2026, 31), (2, 2026, 28), (2, 2024, 29), (2, 1900, 28), (2, 2000, 29),
        (4, 2026, 30), (6, 2026, 30), (9, 2026, 30), (11, 2026, 30), (12, 2026, 31),
    ])
    func daysInMonth(month: Int, year: Int, days: Int) {
        #expect(Timestamp.daysIn(month: month, year: year) == days)
    }
}
