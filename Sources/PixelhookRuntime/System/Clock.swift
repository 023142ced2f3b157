#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// Wall-clock times as pixelhook writes them: ISO 8601 UTC with milliseconds.
public enum Clock {
    public static func now() -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now
    }

    /// Now, in milliseconds since the epoch (the unit of `StoredBuild` and `BuildReport`).
    public static func milliseconds() -> Int {
        let time = now()
        return time.tv_sec * 1000 + time.tv_nsec / 1_000_000
    }

    /// Now (or `time`) as `EpochTime.iso8601` writes it.
    public static func iso8601(_ time: timespec = now()) -> String {
        EpochTime.iso8601(milliseconds: time.tv_sec * 1000 + time.tv_nsec / 1_000_000)
    }

    /// Unique within this host for `webhook.test` deliveries: nanoseconds and pid.
    public static func nonce() -> String {
        let time = now()
        return "\(time.tv_sec)\(String(repeating: "0", count: 9 - String(time.tv_nsec).count))\(time.tv_nsec)-\(getpid())"
    }
}
