import Foundation
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// One client stream socket for the fixtures that speak to a server byte by byte
/// (`RawHTTPConnection` over TCP, `FastCGIConnection` over a unix socket or TCP): connect, send all of
/// a buffer, read with a deadline, half-close, close.
final class StreamSocket {
    private var fd: Int32

    /// Connects to 127.0.0.1:`port`.
    convenience init(tcpPort port: Int) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        try self.init(family: AF_INET, address: address, name: "127.0.0.1:\(port)")
    }

    /// Connects to `host`:`port` (numeric IPv4, or IPv6 such as `::1`), from the local address
    /// `source` when given (another loopback address, to be a client the server does not know).
    convenience init(host: String, port: Int, source: String? = nil) throws {
        let family = host.contains(":") ? AF_INET6 : AF_INET
        func address(_ text: String, port: Int) throws -> sockaddr_in6 {
            // sockaddr_in6 is large enough for either family; connect and bind take the length.
            var storage = sockaddr_in6()
            try withUnsafeMutableBytes(of: &storage) { raw in
                if family == AF_INET {
                    var v4 = sockaddr_in()
                    v4.sin_family = sa_family_t(AF_INET)
                    v4.sin_port = UInt16(port).bigEndian
                    guard inet_pton(AF_INET, text, &v4.sin_addr) == 1 else { throw FixtureError("not an IPv4 address: \(text)") }
                    withUnsafeBytes(of: v4) { raw.copyBytes(from: $0) }
                } else {
                    var v6 = sockaddr_in6()
                    v6.sin6_family = sa_family_t(AF_INET6)
                    v6.sin6_port = UInt16(port).bigEndian
                    guard inet_pton(AF_INET6, text, &v6.sin6_addr) == 1 else { throw FixtureError("not an IPv6 address: \(text)") }
                    withUnsafeBytes(of: v6) { raw.copyBytes(from: $0) }
                }
            }
            return storage
        }
        let length = family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size
        let local = try source.map { try address($0, port: 0) }
        try self.init(family: family, address: try address(host, port: port), length: length, source: local, name: "\(host) port \(port)")
    }

    /// Connects to the unix socket at `path`; throws if nothing listens there.
    convenience init(unixPath path: String) throws {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw FixtureError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        try self.init(family: AF_UNIX, address: address, name: path)
    }

    private init<Address>(
        family: Int32, address: Address, length: Int = MemoryLayout<Address>.size, source: Address? = nil, name: String
    ) throws {
        fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket: \(String(cString: strerror(errno)))") }
        if var source {
            let bound = withUnsafePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
            }
            guard bound == 0 else {
                let reason = String(cString: strerror(errno))
                Glibc.close(fd)
                throw FixtureError("bind the client to \(name)'s source address: \(reason)")
            }
        }
        var address = address
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(length)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw FixtureError("connect \(name): \(reason)")
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Writes all of `bytes`; MSG_NOSIGNAL: a server that hung up is an error, not SIGPIPE.
    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw FixtureError("send: \(String(cString: strerror(errno)))") }
            sent += count
        }
    }

    /// Half-closes: the server reads EOF after what was sent.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    enum Received {
        case bytes([UInt8])
        /// EOF, or a reset: the server is done with the connection.
        case closed
        case timedOut
    }

    /// The next bytes that arrive before `deadline`.
    func receive(before deadline: Date) -> Received {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return .timedOut }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(left * 1000) + 1)
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { return .timedOut }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return .closed }
            return .bytes(Array(chunk[0..<count]))
        }
    }
}
