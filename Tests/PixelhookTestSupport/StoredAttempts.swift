import Foundation

/// Moves stored handler attempts into the past, so that a test about what `retry` does with a
/// failed delivery is not held up by its back-off (SPEC "Retries": 1 min after the first
/// attempt, doubling): the time `retry` measures from is the result's `startedAt`.
public enum StoredAttempts {
    /// Rewrites the `startedAt` of every `*.result` under `spool` to a time long past.
    public static func endedLongAgo(spool: String) throws {
        let pattern = try NSRegularExpression(pattern: #""startedAt":"[^"]*""#)
        guard let walker = FileManager.default.enumerator(atPath: spool) else { return }
        for case let relative as String in walker where relative.hasSuffix(".result") {
            let path = spool + "/" + relative
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let aged = pattern.stringByReplacingMatches(
                in: text, range: NSRange(text.startIndex..., in: text), withTemplate: #""startedAt":"2000-01-01T00:00:00.000Z""#)
            try aged.write(toFile: path, atomically: false, encoding: .utf8)  // in place: keeps its owner
        }
    }
}
