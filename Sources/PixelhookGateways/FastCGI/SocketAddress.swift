#if canImport(Glibc)
import Glibc
#endif

/// A socket's own or peer address, as far as the trust rules need it.
package enum SocketAddress: Equatable, CustomStringConvertible {
    case unix
    /// IPv6 bytes; an IPv4 address as IPv4-mapped.
    case internet([UInt8])

    package static func local(of fd: Int32) -> SocketAddress? { read(fd, getsockname) }
    package static func peer(of fd: Int32) -> SocketAddress? { read(fd, getpeername) }

    /// 127.0.0.0/8, `::1`, or IPv4-mapped 127.x.
    package var isLoopback: Bool {
        switch self {
        case .unix: return true
        case .internet(let bytes):
            if bytes == [UInt8](repeating: 0, count: 15) + [1] { return true }
            return bytes.prefix(12) == SocketAddress.mappedPrefix[...] && bytes[12] == 127
        }
    }

    /// `192.0.2.7`, `2001:db8::1`, or `unix socket`.
    package var description: String {
        guard case .internet(let bytes) = self else { return "unix socket" }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if bytes.prefix(12) == SocketAddress.mappedPrefix[...] {
            var v4 = in_addr()
            withUnsafeMutableBytes(of: &v4.s_addr) { $0.copyBytes(from: bytes.suffix(4)) }
            inet_ntop(AF_INET, &v4, &text, socklen_t(text.count))
        } else {
            var v6 = in6_addr()
            withUnsafeMutableBytes(of: &v6) { $0.copyBytes(from: bytes) }
            inet_ntop(AF_INET6, &v6, &text, socklen_t(text.count))
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The 16 bytes of a numeric IPv4 or IPv6 address (brackets allowed), or nil.
    package static func numeric(_ text: String) -> [UInt8]? {
        var host = text
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return mapped(v4) }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }

    private static let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

    private static func mapped(_ address: in_addr) -> [UInt8] {
        mappedPrefix + withUnsafeBytes(of: address.s_addr) { Array($0) }
    }

    private static func read(
        _ fd: Int32, _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &length) }
        }
        guard result == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_UNIX:
            return .unix
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { .internet(mapped($0.pointee.sin_addr)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    .internet(withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) })
                }
            }
        default:
            return nil
        }
    }
}
