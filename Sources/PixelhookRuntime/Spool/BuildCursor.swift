#if canImport(Glibc)
import Glibc
#endif

/// How far a build's queue is finished: a byte offset into its `.arrivals` before which every
/// line names a delivery whose result is `done` (or repeats an earlier line). A runner starts
/// reading `.arrivals` there, so a handler run costs the same in a build of 7 deliveries as in
/// one of 7,000: nothing before the cursor is listed, stat'ed or read again.
///
/// It is kept in the build's `.lock` file, which exists already and is only ever locked, never
/// read: no new inode per build. Written in place (one small `pwrite`, never synced) only after
/// the result it passes over is written, so it never runs ahead of the results; a cursor that
/// is lost, torn or behind (a crash, a power cut) only means rereading lines whose results
/// exist. A value that does not fall on a line end of `.arrivals` counts as 0.
struct BuildCursor {
    /// The build's locked `.lock` descriptor.
    let lockDescriptor: Int32
    let arrivalsPath: String

    private static let width = 20

    /// The stored offset, or 0 when there is none or it does not fit `.arrivals`.
    func read() -> Int {
        var buffer = [UInt8](repeating: 0, count: BuildCursor.width + 1)
        let count = buffer.withUnsafeMutableBytes { pread(lockDescriptor, $0.baseAddress, $0.count, 0) }
        guard count == buffer.count, buffer.last == UInt8(ascii: "\n"),
              let offset = Int(String(decoding: buffer.dropLast(), as: UTF8.self)), offset > 0
        else { return 0 }
        return endsALine(offset) ? offset : 0
    }

    func write(_ offset: Int) {
        let digits = String(offset)
        let text = String(repeating: "0", count: max(0, BuildCursor.width - digits.count)) + digits + "\n"
        _ = Array(text.utf8).withUnsafeBytes { pwrite(lockDescriptor, $0.baseAddress, $0.count, 0) }
    }

    private func endsALine(_ offset: Int) -> Bool {
        let fd = open(arrivalsPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var byte: UInt8 = 0
        return pread(fd, &byte, 1, off_t(offset - 1)) == 1 && byte == UInt8(ascii: "\n")
    }
}

/// `.arrivals` read from a byte offset on: each whole line (an event's payload stem) with the
/// offset just past it. A line still being appended (no newline yet) is left for the next read.
struct ArrivalsReader {
    let path: String

    func lines(from offset: Int) -> [(stem: String, end: Int)] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset + bytes.count)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        var lines: [(String, Int)] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            if index > start { lines.append((String(decoding: bytes[start..<index], as: UTF8.self), offset + index + 1)) }
            start = index + 1
        }
        return lines
    }
}
