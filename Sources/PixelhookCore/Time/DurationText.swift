/// Durations as an operator writes them on a command line or in a setting: a whole number and
/// one unit, `90s`, `30m`, `12h`, `7d`, `2w`.
///
/// ```swift
/// DurationText.seconds("12h")        // 43200
/// DurationText.seconds("5x")         // nil
/// DurationText.describe(milliseconds: 125_000)  // "2m 5s"
/// ```
public enum DurationText {
    /// Seconds per unit letter.
    static let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    /// The longest duration accepted: ten years, far past any spool's lifetime.
    public static let maximumSeconds = 3650 * 86_400

    /// What to print after "must be": the accepted forms, for error messages.
    public static let expected = "a duration like 90s, 30m, 12h or 7d"

    /// The duration in seconds; nil unless `text` is digits then one unit (s, m, h, d, w), more
    /// than zero and at most `maximumSeconds`. No spaces, signs, fractions or bare numbers: a
    /// bare `30` could mean seconds or minutes, so it is refused rather than guessed.
    public static func seconds(_ text: String) -> Int? {
        guard let unit = text.last, let size = units[unit] else { return nil }
        let digits = text.dropLast()
        guard !digits.isEmpty, digits.count <= 10,
              digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let count = Int(digits)
        else { return nil }
        let (total, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, total > 0, total <= maximumSeconds else { return nil }
        return total
    }

    /// A duration for people: its two largest units, `850ms`, `42s`, `2m 5s`, `3h 12m`, `2d 4h`.
    public static func describe(milliseconds: Int) -> String {
        let sign = milliseconds < 0 ? "-" : ""
        let magnitude = milliseconds.magnitude
        if magnitude < 1000 { return "\(sign)\(magnitude)ms" }
        let seconds = magnitude / 1000
        let parts: [(UInt, String)] = [
            (seconds / 86_400, "d"), (seconds % 86_400 / 3600, "h"), (seconds % 3600 / 60, "m"), (seconds % 60, "s"),
        ]
        guard let first = parts.firstIndex(where: { $0.0 > 0 }) else { return "\(sign)0s" }
        let shown = parts[first...].prefix(2).filter { $0.0 > 0 }
        return sign + shown.map { "\($0.0)\($0.1)" }.joined(separator: " ")
    }

    /// `describe(milliseconds:)` for whole seconds.
    public static func describe(seconds: Int) -> String { describe(milliseconds: seconds * 1000) }
}
