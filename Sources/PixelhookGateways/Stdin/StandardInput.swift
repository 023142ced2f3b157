#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// The request body on fd 0 (CGI, `pixelhook handle`).
package enum StandardInput {
    /// Reads the CGI request body from stdin (see `RequestBody.read`).
    package static func readBody(contentLength: Int?, limit: Int, fd: Int32 = 0) throws(ReceiveError) -> [UInt8] {
        try RequestBody.read(contentLength: contentLength, limit: limit) { buffer, count in
            while true {
                let got = read(fd, buffer, count)
                if got < 0, errno == EINTR { continue }
                return got
            }
        }
    }
}

extension StandardInput {
    /// Reads and drops the rest of a refused body (see `RequestBody.discard`), giving up once
    /// `seconds` have passed: a client that stalls cannot hold the process.
    package static func discardBody(remaining: Int?, seconds: Int, fd: Int32 = 0) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let deadline = Int(now.tv_sec) * 1000 + Int(now.tv_nsec) / 1_000_000 + seconds * 1000
        RequestBody.discard(remaining: remaining) { buffer, count in
            while true {
                clock_gettime(CLOCK_MONOTONIC, &now)
                let left = deadline - (Int(now.tv_sec) * 1000 + Int(now.tv_nsec) / 1_000_000)
                guard left > 0 else { return 0 }
                var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let polled = poll(&ready, 1, Int32(left))
                if polled < 0, errno == EINTR { continue }
                guard polled > 0 else { return 0 }
                let got = read(fd, buffer, count)
                if got < 0, errno == EINTR { continue }
                return got
            }
        }
    }
}
