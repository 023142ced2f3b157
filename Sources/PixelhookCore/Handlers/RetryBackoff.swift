/// When `pixelhook retry` runs a failed delivery again (SPEC "Retries"): 1 min after its first
/// attempt ended, then twice as long after each further attempt, at most 1 h.
///
/// | after attempt | 1 | 2 | 3 | 4 | 5 | 6 | 7 and later |
/// | --- | --- | --- | --- | --- | --- | --- | --- |
/// | waits | 1 min | 2 min | 4 min | 8 min | 16 min | 32 min | 1 h |
///
/// Measured from the stored result (its `startedAt` plus its duration), so the wait survives
/// reboots and needs no state beside the result.
public enum RetryBackoff {
    public static let firstSeconds = 60
    public static let longestSeconds = 3600

    /// The wait after the `attempts`th attempt ended.
    public static func seconds(afterAttempts attempts: Int) -> Int {
        let doublings = max(0, attempts - 1)
        guard doublings < 7 else { return longestSeconds }  // 60 << 6 = 3840 > 3600 already
        return min(longestSeconds, firstSeconds << doublings)
    }

    /// When `result`'s delivery may run again, in milliseconds since the epoch; nil when at
    /// once (its time is unreadable: better an early run than none).
    public static func dueAt(_ result: HandlerResult) -> Int? {
        result.endedAtMilliseconds.map { $0 + seconds(afterAttempts: result.attempts) * 1000 }
    }

    /// Whether `result`'s delivery may run again at `now` (milliseconds since the epoch).
    public static func isDue(_ result: HandlerResult, now: Int) -> Bool {
        dueAt(result).map { now >= $0 } ?? true
    }
}
