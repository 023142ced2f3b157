#if canImport(Glibc)
import Glibc
#endif
import CPosix
import PixelhookCore

/// A worker takes a connection off the listener itself, not through libfcgi, so that the
/// request's start can be checked (`FastCGIRecordCheck`) before libfcgi parses it: a bad or
/// too slow request ends that connection, never the process.
///
/// The bytes are peeked (`MSG_PEEK`) until the check decides; once it accepts, exactly the
/// checked bytes (BEGIN_REQUEST and PARAMS) are taken off the connection and handed to libfcgi
/// through a socket pair (`FCGX_Request.ipcFd`, which makes `FCGX_Accept_r` skip its own
/// accept), so libfcgi cannot read ahead into the body: the body's records are read by
/// `FastCGIStdinReader`, and libfcgi writes the response to the connection itself. libfcgi's
/// accept would have applied `FCGI_WEB_SERVER_ADDRS` to IPv4 clients; this one applies
/// `--allowed-clients` (`AllowedClients`, IPv4 and IPv6) before reading a byte.
package struct FastCGIIntake: @unchecked Sendable {
    package let listener: Int32
    /// `--allowed-clients`; nil serves every client (a unix socket, or loopback TCP).
    package let clients: AllowedClients?
    /// How long a client may take to send its request up to the end of the params.
    package static let headDeadlineSeconds = 10.0

    package init(listener: Int32, clients: AllowedClients?) {
        self.listener = listener
        self.clients = clients
    }

    package enum Outcome {
        /// A checked connection (blocking, with read and write timeouts) positioned at the body,
        /// and the read end of a socket pair holding its BEGIN_REQUEST and PARAMS records.
        case connection(CheckedConnection)
        /// The connection was closed: refused, or its client hung up before its params ended.
        case closed
        /// Nothing was waiting (another worker took it), or the listener failed (`errno`).
        case nothingWaiting(Int32)
    }

    package func accept() -> Outcome {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pixelhook_accept_cloexec(listener, $0, &length) }
        }
        guard fd >= 0 else {
            return [ECONNABORTED, EPROTO].contains(errno) ? .closed : .nothingWaiting(errno)
        }
        if let clients, !clients.admits(fd) {
            let peer = SocketAddress.peer(of: fd).map { "\($0)" } ?? "an unknown address"
            refuse(fd, "refused a connection from \(peer): not in --allowed-clients \(clients)")
            return .closed
        }
        if [AF_INET, AF_INET6].contains(Int32(address.ss_family)) {
            var noDelay: Int32 = 1  // as libfcgi does: a response is written whole, then the end
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        }
        // Unix-socket connections do not inherit these from the listener: set them on every
        // connection, so a client that stalls mid-body frees its worker too.
        var timeout = timeval(tv_sec: FastCGIResponder.connectionTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return admit(fd)
    }

    /// Checks the next request's start on `fd` (new, or kept by the web server after a request).
    package func admit(_ fd: Int32) -> Outcome {
        switch Self.waitForHead(fd) {
        case .complete(let prefixLength):
            guard let connection = Self.takeHead(fd, length: prefixLength) else {
                refuse(fd, "cannot hand the request's params to libfcgi: \(String(cString: strerror(errno)))")
                return .closed
            }
            return .connection(connection)
        case .incomplete:
            close(fd)  // the client hung up before its params ended: nothing to answer
            return .closed
        case .invalid(let reason):
            refuse(fd, reason)
            return .closed
        }
    }

    /// Moves the checked `length` bytes from the connection into a socket pair whose write end
    /// is then closed: libfcgi reads them and sees the end after them.
    package static func takeHead(_ fd: Int32, length: Int) -> CheckedConnection? {
        var head = [UInt8](repeating: 0, count: length)
        guard recv(fd, &head, length, Int32(MSG_WAITALL)) == length else { return nil }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else { return nil }
        let written = write(pair[1], head, length)
        close(pair[1])
        guard written == length else {
            close(pair[0])
            return nil
        }
        return CheckedConnection(fd: fd, head: pair[0], requestID: Int(head[2]) << 8 | Int(head[3]))
    }

    /// Peeks until the check decides, the client hangs up, or `headDeadlineSeconds` pass.
    /// `.incomplete` means the client hung up first.
    package static func waitForHead(_ fd: Int32) -> FastCGIRecordCheck.Verdict {
        let deadline = monotonicSeconds() + headDeadlineSeconds
        // Not zeroed: only the bytes recv peeks are read. Grown only for unusually long params.
        var buffer = [UInt8](unsafeUninitializedCapacity: 16 * 1024) { _, count in count = 16 * 1024 }
        var seen = 0
        while true {
            let remaining = deadline - monotonicSeconds()
            guard remaining > 0 else { return .invalid("the request's params did not arrive within \(Int(headDeadlineSeconds)) s") }
            var poller = pollfd(fd: fd, events: Int16(POLLIN) | peerClosedWriting, revents: 0)
            guard poll(&poller, 1, Int32(remaining * 1000) + 1) > 0 else { continue }
            let peerDone = poller.revents & (peerClosedWriting | Int16(POLLHUP | POLLERR)) != 0
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
            if count < 0, errno == EINTR || errno == EAGAIN { continue }
            guard count > 0 else { return .incomplete }  // EOF or a reset
            let verdict = FastCGIRecordCheck.check(Array(buffer[..<count]))
            guard verdict == .incomplete else { return verdict }
            guard !peerDone else { return .incomplete }  // all it sent is peeked: no more comes
            if count == buffer.count {
                guard buffer.count < FastCGIRecordCheck.maximumPrefixBytes else {
                    return .invalid("more than \(buffer.count) bytes before the end of the params")
                }
                buffer += [UInt8](repeating: 0, count: FastCGIRecordCheck.maximumPrefixBytes - buffer.count)
                continue
            }
            // poll reports the bytes already peeked as readable: wait a little for more.
            if count == seen { usleep(2_000) }
            seen = count
        }
    }

    /// POLLRDHUP (Linux): the client shut down its side; Glibc's module does not export it.
    private static let peerClosedWriting: Int16 = 0x2000

    package static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// One line on stderr (the web server's or the service's error log), and the connection closed.
    private func refuse(_ fd: Int32, _ reason: String) {
        close(fd)
        var line = Array("pixelhook fastcgi: closed a connection: \(reason)\n".utf8)
        _ = write(2, &line, line.count)
    }
}

/// A connection whose BEGIN_REQUEST and PARAMS passed `FastCGIRecordCheck`.
package struct CheckedConnection {
    /// The client's connection, positioned at the first record after the params.
    package let fd: Int32
    /// What libfcgi reads the request's start from (the read end of a socket pair).
    package let head: Int32
    package let requestID: Int
}
