#if canImport(Glibc)
import Glibc
#endif

/// The client addresses a TCP listener serves (`--allowed-clients`; php-fpm's
/// `listen.allowed_clients`): exact IPv4 or IPv6 addresses, loopback included only if listed.
///
/// Enforced by `FastCGIIntake` on every accepted connection, before a byte is read. (libfcgi's
/// own list, `FCGI_WEB_SERVER_ADDRS`, covers IPv4 only, and libfcgi no longer accepts: the
/// intake does, to check each request's start first.)
package struct AllowedClients: Sendable, Equatable, CustomStringConvertible {
    /// Each address as 16 bytes, IPv4 as IPv4-mapped IPv6 (how a dual-stack listener sees
    /// an IPv4 peer).
    private let addresses: Set<[UInt8]>
    package let description: String

    package struct ParseError: Error, CustomStringConvertible { package let description: String }

    /// `list`: comma-separated numeric addresses, such as `10.0.0.5,127.0.0.1,::1`.
    package init(parsing list: String) throws(ParseError) {
        var addresses: Set<[UInt8]> = []
        for item in list.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = String(item.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
            guard let bytes = SocketAddress.numeric(entry) else {
                throw ParseError(description: "--allowed-clients takes numeric IPv4 or IPv6 addresses separated by commas "
                    + "(like 10.0.0.5,::1), got \"\(entry)\" in \(list)")
            }
            addresses.insert(bytes)
        }
        self.addresses = addresses
        description = list
    }

    /// True when the peer of the accepted connection `fd` is listed (a unix-socket peer
    /// always is: the socket file's mode decides who connects there).
    package func admits(_ fd: Int32) -> Bool {
        guard let peer = SocketAddress.peer(of: fd) else { return false }
        switch peer {
        case .unix: return true
        case .internet(let bytes): return addresses.contains(bytes)
        }
    }
}
