#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// Reads `requests.log` from its end backwards, so that "the last 24 hours" costs what those
/// hours hold, not what the log has grown to: `check` and `pixelhook log --since` stop at the
/// first line older than they need, and nothing reads more than `maximumBytes` in all.
public struct RequestLogTail: Sendable {
    public let path: String

    /// The most bytes read from the end: far more than a day of refusals from one sender, and
    /// a bound on the time `check` takes whatever the log holds.
    public static let defaultMaximumBytes = 64 << 20
    static let chunkBytes = 64 << 10

    public init(spool: Spool) { path = spool.layout.requestLog }
    public init(path: String) { self.path = path }

    public struct Lines: Sendable {
        /// Oldest first, as the log has them.
        public var lines: [[UInt8]] = []
        /// True when the read stopped at `maximumBytes` with older lines left unread.
        public var cut = false
    }

    /// The lines logged at or after `since` (an ISO 8601 time as the log writes them; nil:
    /// every line), oldest first. A log that does not exist is empty; one that cannot be read
    /// throws. Lines are compared by their `"time"` prefix, which sorts as text.
    public func lines(since: String? = nil, maximumBytes: Int = defaultMaximumBytes) throws(StorageError) -> Lines {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec, .noFollow])
        } catch let error as Errno {
            if error == .noSuchFileOrDirectory { return Lines() }
            throw StorageError("open", path, error)
        } catch {
            throw StorageError("open", path, .ioError)
        }
        defer { try? fd.close() }
        var info = stat()
        guard fstat(fd.rawValue, &info) == 0 else { throw StorageError("stat", path, Errno(rawValue: errno)) }
        var position = Int(info.st_size)
        var newestFirst: [[UInt8]] = []
        var carry: [UInt8] = []  // the end of a line whose start lies in a chunk not read yet
        var read = 0
        var result = Lines()
        reading: while position > 0 {
            guard read < maximumBytes else { result.cut = true; break }
            let count = min(RequestLogTail.chunkBytes, position)
            position -= count
            var chunk = [UInt8](repeating: 0, count: count)
            let got = chunk.withUnsafeMutableBytes { pread(fd.rawValue, $0.baseAddress, count, off_t(position)) }
            guard got == count else { throw StorageError("read", path, Errno(rawValue: got < 0 ? errno : EIO)) }
            read += count
            chunk += carry
            // Before the first newline: a line that began in an earlier chunk (unless at 0).
            let firstNewline = position == 0 ? -1 : (chunk.firstIndex(of: UInt8(ascii: "\n")) ?? chunk.count)
            carry = firstNewline >= 0 ? Array(chunk[..<min(firstNewline + 1, chunk.count)]) : []
            let whole = chunk[(firstNewline + 1 < chunk.count ? firstNewline + 1 : chunk.count)...]
            for line in whole.split(separator: UInt8(ascii: "\n")).reversed() {
                if let since, let time = RequestLogTail.time(of: line), time < since { break reading }
                newestFirst.append(Array(line))
            }
        }
        result.lines = newestFirst.reversed()
        return result
    }

    /// The log's time `seconds` before now, for `lines(since:)`.
    public static func time(secondsAgo seconds: Int, now: Int = Clock.milliseconds()) -> String {
        EpochTime.iso8601(milliseconds: now - seconds * 1000)
    }

    /// The value of a line's leading `"time"` member without parsing the rest.
    static func time(of line: ArraySlice<UInt8>) -> String? {
        let prefix = Array(#"{"time":""#.utf8)
        guard line.starts(with: prefix) else { return nil }
        let start = line.startIndex + prefix.count
        guard let end = line[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: line[start..<end], as: UTF8.self)
    }
}
