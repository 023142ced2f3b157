#if canImport(Glibc)
import Glibc
#endif
import PixelhookGateways
import Testing

/// The FastCGI gateway's trust rules on real sockets, in this process: what a library target
/// allows that an executable did not (the responder itself is tested through web servers in
/// IntegrationTests).
@Suite struct TrustRulesTests {
    /// A loopback TCP listener on a free port, and a connection to it accepted: (listener, accepted).
    func acceptedLoopbackConnection() throws -> (listener: Int32, accepted: Int32, client: Int32) {
        let listener = try FastCGIListener.open("127.0.0.1:0", mode: 0o600)
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) }
        }
        #expect(connected == 0, "connect: \(String(cString: strerror(errno)))")
        let accepted = accept(listener, nil, nil)
        #expect(accepted >= 0, "accept: \(String(cString: strerror(errno)))")
        return (listener, accepted, client)
    }

    @Test("--allowed-clients admits a listed peer and refuses one not listed")
    func allowedClients() throws {
        let (listener, accepted, client) = try acceptedLoopbackConnection()
        defer { close(listener); close(accepted); close(client) }
        #expect(try AllowedClients(parsing: "10.0.0.5, 127.0.0.1").admits(accepted))
        #expect(try !AllowedClients(parsing: "10.0.0.5,::1").admits(accepted))
        #expect(throws: AllowedClients.ParseError.self) { try AllowedClients(parsing: "localhost") }
    }

    @Test("A loopback listener is trusted as it is; --allowed-clients on a unix socket is refused")
    func listenerRules() throws {
        let (listener, accepted, client) = try acceptedLoopbackConnection()
        defer { close(listener); close(accepted); close(client) }
        let trust = try FastCGITrust(listener: listener, rules: .init(), processEnvironment: [:])
        #expect(trust.clients == nil)

        let path = "/tmp/pixelhook-gateways-\(getpid()).sock"
        let unix = try FastCGIListener.open(path, mode: 0o600)
        defer { close(unix); unlink(path) }
        let clients = try AllowedClients(parsing: "127.0.0.1")
        #expect(throws: FastCGITrust.StartError.self) {
            try FastCGITrust(listener: unix, rules: .init(allowedClients: clients), processEnvironment: [:])
        }
    }
}
