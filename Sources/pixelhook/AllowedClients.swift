#if canImport(Glibc)
import Glibc
#endif

/// The client addresses a TCP listener serves (`--allowed-clients`; php-fpm's
/// `listen.allowed_clients`): exact IPv4 or IPv6 addresses, loopback included only if listed.
///
/// Enforced twice. libfcgi closes an IPv4 peer that is not in `FCGI_WEB_SERVER_ADDRS` right
/// after `accept`, before reading a byte (`OS_Accept`/`ClientAddrOK`, which reads the variable
/// once, in `FCGX_Init`), so `initializeLibfcgi` sets it. libfcgi lets every IPv6 peer
/// through, and code that accepts itself (setting `ipcFd`) skips its check, so `admits(fd)`
/// looks at the peer of every accepted connection too.
struct AllowedClients: Sendable, Equatable, CustomStringConvertible {
    /// Each address as 16 bytes, IPv4 as IPv4-mapped IPv6 (how a dual-stack listener sees
    /// an IPv4 peer).
    private let addresses: Set<[UInt8]>
    /// The IPv4 entries as written, for libfcgi.
    private let ipv4: [String]
    let description: String

    struct ParseError: Error, CustomStringConvertible { let description: String }

    /// `list`: comma-separated numeric addresses, such as `10.0.0.5,127.0.0.1,::1`.
    init(parsing list: String) throws(ParseError) {
        var addresses: Set<[UInt8]> = []
        var ipv4: [String] = []
        for item in list.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = String(item.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
            guard let bytes = SocketAddress.numeric(entry) else {
                throw ParseError(description: "--allowed-clients takes numeric IPv4 or IPv6 addresses separated by commas "
                    + "(like 10.0.0.5,::1), got \"\(entry)\" in \(list)")
            }
            addresses.insert(bytes)
            if !entry.contains(":") { ipv4.append(entry) }
        }
        self.addresses = addresses
        self.ipv4 = ipv4
        description = list
    }

    /// True when the peer of the accepted connection `fd` is listed (a unix-socket peer
    /// always is: the socket file's mode decides who connects there).
    func admits(_ fd: Int32) -> Bool {
        guard let peer = SocketAddress.peer(of: fd) else { return false }
        switch peer {
        case .unix: return true
        case .internet(let bytes): return addresses.contains(bytes)
        }
    }

    /// `FCGX_Init` with `FCGI_WEB_SERVER_ADDRS` set to the IPv4 entries (unset when there are
    /// none, so an operator's stray value cannot widen the list), removed again afterwards
    /// so that handlers do not inherit it.
    static func initializeLibfcgi(_ clients: AllowedClients?, initialize: () -> Void) {
        let name = "FCGI_WEB_SERVER_ADDRS"
        guard let clients else { return initialize() }
        if clients.ipv4.isEmpty { unsetenv(name) } else { setenv(name, clients.ipv4.joined(separator: ","), 1) }
        initialize()
        unsetenv(name)
    }
}
