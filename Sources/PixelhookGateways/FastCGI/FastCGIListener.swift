#if canImport(Glibc)
import Glibc
#endif

/// Where the responder listens: an inherited socket on fd 0 (spawn-fcgi, lighttpd `bin-path`,
/// systemd `StandardInput=socket`) or one it opens itself (`--listen`).
package enum FastCGIListener {
    /// True when fd 0 is a socket in the listening state.
    package static func isListeningSocketOnStandardInput() -> Bool {
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0 && accepting == 1
    }

    /// The most connections the kernel queues on a listener (`net.core.somaxconn`, 4096 by
    /// default since Linux 5.4): a burst waits there for a worker instead of being refused.
    /// Linux silently caps a larger backlog at this value, so reading it only makes it explicit.
    package static var systemMaximumBacklog: Int32 {
        let fd = Glibc.open("/proc/sys/net/core/somaxconn", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 4096 }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 16)
        let count = read(fd, &bytes, bytes.count)
        let digits = bytes.prefix(max(0, count)).prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return Int32(String(decoding: digits, as: UTF8.self)).flatMap { $0 > 0 ? $0 : nil } ?? 4096
    }

    package struct OpenError: Error, CustomStringConvertible {
        package let description: String
    }

    /// `PATH` (contains a `/`): a unix socket, a stale socket file replaced, mode applied.
    /// `HOST:PORT`: TCP (IPv4 address or `localhost`; `[::1]:PORT` for IPv6).
    package static func open(_ address: String, mode: mode_t, backlog: Int32 = systemMaximumBacklog) throws(OpenError) -> Int32 {
        if address.contains("/") { return try openUnix(address, mode: mode, backlog: backlog) }
        return try openTCP(address, backlog: backlog)
    }

    private static func openUnix(_ path: String, mode: mode_t, backlog: Int32) throws(OpenError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else {
            throw OpenError(description: "socket path is too long (\(path.utf8.count) bytes): \(path)")
        }
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw OpenError(description: "\(path) exists and is not a socket; not replacing it")
            }
            unlink(path)
        }
        // Bound and listening under a temporary name, then renamed into place: a client that
        // connects as soon as the path exists (a web server, a readiness check) is never
        // refused in the moment between bind and listen. A path with no room for the suffix is
        // bound directly.
        let temporary = "\(path).\(getpid())"
        let staged = temporary.utf8.count < capacity
        let bindPath = staged ? temporary : path
        if staged { unlink(temporary) }  // a socket a crashed start left behind
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(bindPath.utf8))
            raw[bindPath.utf8.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OpenError(description: "cannot create a socket: \(String(cString: strerror(errno)))") }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, chmod(bindPath, mode) == 0, listen(fd, backlog) == 0, !staged || rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            if staged { unlink(temporary) }
            throw OpenError(description: "cannot listen on \(path): \(reason)")
        }
        return fd
    }

    private static func openTCP(_ address: String, backlog: Int32) throws(OpenError) -> Int32 {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw OpenError(description: "--listen takes a socket path or HOST:PORT, got \(address)")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        // Never every interface by default (FastCGITrust.checkListen says what to write).
        guard !host.isEmpty else { throw OpenError(description: "--listen \(address) names no host; write 127.0.0.1:\(port)") }
        if host == "localhost" { host = "127.0.0.1" }

        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw OpenError(description: "--listen: not a numeric address: \(host)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OpenError(description: "cannot create a socket: \(String(cString: strerror(errno)))") }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(fd, backlog) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw OpenError(description: "cannot listen on \(address): \(reason)")
        }
        return fd
    }
}
