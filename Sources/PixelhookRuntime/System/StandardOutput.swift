#if canImport(Glibc)
import Glibc
#endif

/// Whole writes to fd 1 and 2 (retried on EINTR and short writes), and letting go of them.
package enum StandardOutput {
    @discardableResult
    package static func write(_ text: String, to fd: Int32) -> Bool { write(Array(text.utf8), to: fd) }

    @discardableResult
    package static func write(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return false }
            written += count
        }
        return true
    }

    /// Points 0, 1 and 2 at /dev/null: the web server's pipes see EOF.
    package static func detachStdio() {
        let null = open("/dev/null", O_RDWR)
        guard null >= 0 else {
            close(0); close(1); close(2)
            return
        }
        for fd: Int32 in [0, 1, 2] { dup2(null, fd) }
        if null > 2 { close(null) }
    }
}

extension String {
    /// Newlines and tabs become spaces and runs of spaces collapse: a message fit for one
    /// line on stderr.
    package var asOneLine: String {
        split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == " " }).joined(separator: " ")
    }
}
