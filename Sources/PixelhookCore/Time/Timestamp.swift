/// ISO 8601 date-time validation, the profile Streampixel sends (`2026-03-29T14:30:00.000Z`).
///
/// Accepted: `YYYY-MM-DDTHH:MM:SS`, optional `.fraction` (1–9 digits), then `Z` or a `±HH:MM`
/// / `±HHMM` offset. Calendar ranges are checked (month days, leap years, second 60 for a
/// leap second). A date-time without a zone is ambiguous and rejected.
public enum Timestamp {
    public static func isISO8601(_ text: String) -> Bool {
        let c = Array(text.utf8)
        var i = 0

        func digits(_ count: Int) -> Int? {
            guard i + count <= c.count else { return nil }
            var value = 0
            for k in i..<(i + count) {
                guard c[k] >= 0x30, c[k] <= 0x39 else { return nil }
                value = value * 10 + Int(c[k] - 0x30)
            }
            i += count
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard i < c.count, c[i] == byte else { return false }
            i += 1
            return true
        }

        guard let year = digits(4), expect(0x2D), let month = digits(2), expect(0x2D),
              let day = digits(2)
        else { return false }
        guard i < c.count, c[i] == 0x54 || c[i] == 0x74 else { return false }  // T or t
        i += 1
        guard let hour = digits(2), expect(0x3A), let minute = digits(2), expect(0x3A),
              let second = digits(2)
        else { return false }

        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60
        else { return false }

        if i < c.count, c[i] == 0x2E {  // fraction
            i += 1
            let start = i
            while i < c.count, c[i] >= 0x30, c[i] <= 0x39 { i += 1 }
            guard (1...9).contains(i - start) else { return false }
        }

        guard i < c.count else { return false }
        switch c[i] {
        case 0x5A, 0x7A:  // Z or z
            i += 1
        case 0x2B, 0x2D:  // + or -
            i += 1
            guard let offsetHours = digits(2), offsetHours <= 23 else { return false }
            _ = expect(0x3A)
            guard let offsetMinutes = digits(2), offsetMinutes <= 59 else { return false }
        default:
            return false
        }
        return i == c.count
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
