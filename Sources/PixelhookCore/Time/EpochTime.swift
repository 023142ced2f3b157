/// Milliseconds since 1970-01-01T00:00:00Z, to and from the ISO 8601 text of payloads and
/// reports, without Foundation or the C library (proleptic Gregorian calendar, UTC).
///
/// ```swift
/// EpochTime.milliseconds(iso8601: "2026-03-29T14:30:00.250+02:00")  // 1774787400250
/// EpochTime.iso8601(milliseconds: 1774787400250)                      // "2026-03-29T12:30:00.250Z"
/// ```
public enum EpochTime {
    /// The instant a `Timestamp.isISO8601` text names; nil for anything that profile refuses.
    /// Fractions past milliseconds are dropped; a leap second counts as the next second.
    public static func milliseconds(iso8601 text: String) -> Int? {
        guard Timestamp.isISO8601(text) else { return nil }
        let c = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int {
            c[start..<(start + count)].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        let days = daysSinceEpoch(year: number(0, 4), month: number(5, 2), day: number(8, 2))
        var total = ((days * 24 + number(11, 2)) * 60 + number(14, 2)) * 60 + number(17, 2)
        var i = 19
        var fraction = 0
        if c[i] == 0x2E {
            i += 1
            var scale = 100
            while i < c.count, c[i] >= 0x30, c[i] <= 0x39 {
                fraction += Int(c[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
        }
        if c[i] == 0x2B || c[i] == 0x2D {  // ±HH[:]MM east of UTC: subtract it
            let hours = number(i + 1, 2)
            let minutes = number(c[i + 3] == 0x3A ? i + 4 : i + 3, 2)
            total -= (c[i] == 0x2B ? 1 : -1) * (hours * 60 + minutes) * 60
        }
        return total * 1000 + fraction
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, the form pixelhook writes its own times in.
    public static func iso8601(milliseconds: Int) -> String {
        let seconds = floorDivide(milliseconds, 1000)
        let millisecond = milliseconds - seconds * 1000
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(daysSinceEpoch: days)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay % 3600 / 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millisecond, 3))Z"
    }

    /// Days from 1970-01-01 (Howard Hinnant's `days_from_civil`).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The calendar date of a day number (Howard Hinnant's `civil_from_days`).
    static func civil(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDivide(_ value: Int, _ divisor: Int) -> Int {
        value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
    }
}
