#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// The spool's `requests.log`: one JSON line per request, appended with a single `write(2)` so
/// lines from concurrent processes never interleave. Not synced: it is a log, not a promise.
public struct RequestLog: Sendable {
    public let path: String
    private let spool: Spool

    public init(spool: Spool) {
        self.spool = spool
        path = spool.layout.requestLog
    }

    /// Returns false if the line could not be written; the request's answer does not change.
    @discardableResult
    public func append(_ record: RequestRecord) -> Bool {
        var fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0, errno == ENOENT {
            // A refusal can be the first request a new spool sees: create it, then log.
            guard (try? spool.prepare()) != nil else { return false }
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        }
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // Never append to a log another user planted (`SpoolTrust`); one fstat.
        var info = stat()
        guard fstat(fd, &info) == 0, SpoolTrust.problem(path, info) == nil else { return false }
        let line = record.lineBytes
        return line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == line.count
    }
}
