#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// `SPOOL/metrics.checkpoint`: the metrics' totals up to a byte offset of one `requests.log`
/// file (its device and inode), so each scrape reads only the lines written since the last.
///
/// Written by the metrics reader itself (`GET ?view=metrics`, `pixelhook metrics`), never on
/// the delivery path. Replaced by `rename`, so a reader sees a whole checkpoint; two scrapes at
/// once each write totals consistent with their own offset, and the later rename wins.
///
/// Rotation (logrotate renames `requests.log` to `requests.log.1`, the next request starts a
/// new file): the rest of the checkpointed file is read from `requests.log.1` when that is
/// still it, then the new file from its start. A log cut shorter than the offset (truncated,
/// copytruncate) is read again from its start.
public struct RequestLogCheckpoint: Sendable {
    public let spool: Spool
    public var path: String { spool.layout.metricsCheckpoint }
    var rotatedLog: String { spool.layout.rotatedRequestLog }

    public init(spool: Spool) { self.spool = spool }

    /// The totals up to the end of the log's last whole line; saves the new checkpoint when it
    /// can (a spool it may not write still gets correct totals, read from the start).
    public func advance() -> RequestLogTally {
        var state = load()
        let current = LogFile(path: spool.layout.requestLog)
        defer { current?.close() }
        if let file = state.file, file != current?.identity {
            // Rotated: finish the old file where logrotate put it, if it is still there.
            if let old = LogFile(path: rotatedLog), old.identity == file {
                state.offset = old.readLines(from: state.offset, into: &state.tally)
                old.close()
            }
            state.offset = 0
        }
        if let current {
            if current.size < state.offset { state.offset = 0 }
            state.offset = current.readLines(from: state.offset, into: &state.tally)
            state.file = current.identity
        } else {
            state.file = nil
            state.offset = 0
        }
        save(state)
        return state.tally
    }

    struct FileIdentity: Equatable {
        let device: UInt64
        let inode: UInt64
    }

    struct State {
        var file: FileIdentity?
        var offset = 0
        var tally = RequestLogTally()
    }

    /// First line: `pixelhook-metrics-checkpoint 1 DEVICE INODE OFFSET`; then the tally.
    func load() -> State {
        guard let bytes = try? FileContents.read(path, limit: 1 << 20), trusted(path) else { return State() }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let newline = text.firstIndex(of: "\n") else { return State() }
        let header = text[..<newline].split(separator: " ")
        guard header.count == 5, header[0] == "pixelhook-metrics-checkpoint", header[1] == "1",
              let device = UInt64(header[2]), let inode = UInt64(header[3]), let offset = Int(header[4]), offset >= 0
        else { return State() }
        return State(file: FileIdentity(device: device, inode: inode), offset: offset,
                     tally: RequestLogTally(text: String(text[text.index(after: newline)...])))
    }

    func save(_ state: State) {
        let header = "pixelhook-metrics-checkpoint 1 \(state.file?.device ?? 0) \(state.file?.inode ?? 0) \(state.offset)\n"
        let bytes = Array((header + state.tally.text).utf8)
        var template = Array(spool.layout.metricsCheckpointTemplate.utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        Glibc.close(fd)
        if written != bytes.count || rename(temporary, path) != 0 { unlink(temporary) }
    }

    /// A checkpoint another user planted could only falsify counts, but it is not read either.
    private func trusted(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && SpoolTrust.problem(path, info) == nil
    }

    /// One open log file, read with `pread` in blocks: only whole lines count, so a line being
    /// appended right now is read by the next scrape.
    struct LogFile {
        let fd: Int32
        let identity: FileIdentity
        let size: Int

        init?(path: String) {
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { return nil }
            var info = stat()
            guard fstat(fd, &info) == 0, SpoolTrust.problem(path, info) == nil else {
                Glibc.close(fd)
                return nil
            }
            self.fd = fd
            identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            size = Int(info.st_size)
        }

        func close() { Glibc.close(fd) }

        /// Adds every whole line from `offset` on; returns the offset after the last one.
        func readLines(from offset: Int, into tally: inout RequestLogTally) -> Int {
            var consumed = offset
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var position = offset
            while true {
                let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position)) }
                if got < 0, errno == EINTR { continue }
                guard got > 0 else { break }
                position += got
                var start = 0
                for index in 0..<got where buffer[index] == UInt8(ascii: "\n") {
                    if pending.isEmpty {
                        tally.add(line: Array(buffer[start..<index]))
                    } else {
                        pending += buffer[start..<index]
                        tally.add(line: pending)
                        pending.removeAll(keepingCapacity: true)
                    }
                    start = index + 1
                    consumed = position - got + start
                }
                pending += buffer[start..<got]
                // A "line" longer than any record is not one: skip it rather than hold it.
                if pending.count > 2 * RequestRecord.maximumLineBytes { pending.removeAll() }
            }
            return consumed
        }
    }
}
