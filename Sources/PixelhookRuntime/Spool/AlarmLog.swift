#if canImport(Glibc)
import Glibc
#endif

/// `SPOOL/alarms.log`: every alarm pixelhook raises, one line each (`TIME TEXT`), beside the
/// stderr copy. stderr goes wherever the gateway's stderr goes (lighttpd `-D`'s terminal,
/// fcgiwrap's journal, a detached runner's /dev/null): this file is the one place an operator
/// finds them all (SPEC "Seeing what happened").
///
/// Written only into a spool that exists and is ours (`Spool.verifyTrusted`): an alarm never
/// creates a spool, and never writes into one another user could read or plant files in.
/// Opened like `requests.log` (append, no symbolic link, 0600), one `write(2)` per line.
public struct AlarmLog: Sendable {
    public let path: String
    private let spool: Spool

    public init(spool: Spool) {
        self.spool = spool
        path = spool.layout.alarmLog
    }

    /// The longest line kept, newline included: an alarm quoting something long (a path, a
    /// setting's value) is cut, so the file cannot be grown by one request's worth of text.
    public static let maximumLineBytes = 1024

    /// Appends `text` (its `pixelhook: ` prefix dropped, newlines made spaces) with the time.
    /// Returns false when it was not written; the alarm still went to stderr.
    @discardableResult
    public func append(_ text: String, time: String = Clock.iso8601()) -> Bool {
        guard (try? spool.verifyTrusted()) != nil else { return false }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, SpoolTrust.problem(path, info) == nil else { return false }
        let line = AlarmLog.line(text, time: time)
        return line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == line.count
    }

    /// An alarm where no gateway stream carries it: on stderr (a terminal, or /dev/null for a
    /// detached runner) and in `SPOOL/alarms.log` when `spoolRoot` is known.
    public static func raise(_ text: String, spoolRoot: String?) {
        let line = Array((text.hasPrefix("pixelhook") ? text : "pixelhook: \(text)").utf8) + [UInt8(ascii: "\n")]
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if let spoolRoot { AlarmLog(spool: Spool(root: spoolRoot)).append(text) }
    }

    /// `TIME TEXT\n`, at most `maximumLineBytes`, cut at a character boundary.
    static func line(_ text: String, time: String) -> [UInt8] {
        var body = Substring(text)
        if body.hasPrefix("pixelhook: ") { body = body.dropFirst("pixelhook: ".count) }
        while body.last == "\n" { body = body.dropLast() }
        var bytes = Array("\(time) ".utf8)
        let room = maximumLineBytes - bytes.count - 1
        var used = 0
        for character in body {
            let piece = character == "\n" || character == "\r\n" || character == "\r" ? [UInt8(ascii: " ")] : Array(character.utf8)
            guard used + piece.count <= room else { break }
            bytes += piece
            used += piece.count
        }
        return bytes + [UInt8(ascii: "\n")]
    }
}
