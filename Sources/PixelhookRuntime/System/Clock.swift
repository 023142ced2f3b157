#if canImport(Glibc)
import Glibc
#endif

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

    public static func iso8601(_ time: timespec = now()) -> String {
        var seconds = time.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + "\(pad(Int32(time.tv_nsec / 1_000_000), 3))Z"
    }

    /// Unique within this host for `webhook.test` deliveries: nanoseconds and pid.
    public static func nonce() -> String {
        let time = now()
        return "\(time.tv_sec)\(String(repeating: "0", count: 9 - String(time.tv_nsec).count))\(time.tv_nsec)-\(getpid())"
    }
}
