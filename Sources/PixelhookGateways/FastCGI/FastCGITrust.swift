#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import PixelhookRuntime

/// What the responder trusts of the clients of its socket (SPEC "Settings"), decided once at
/// start from the operator's options and the listening socket itself (`getsockname`: a unix
/// socket, or TCP on loopback or beyond), so the same rules hold for `--listen` and for a
/// socket inherited on fd 0.
package struct FastCGITrust: Sendable {
    /// Which per-request `PIXELHOOK_*` parameters apply.
    package let overrides: ParameterOverridePolicy
    /// nil: every client that can connect is served (a unix socket, or TCP on loopback).
    package let clients: AllowedClients?

    /// The operator's choices (`FastCGITrustOptions`; none for `pixelhook` started bare on fd 0).
    package struct Rules {
        package var trustParams = false
        package var allowSpool: [String] = []
        package var allowHandlers: [String] = []
        package var allowConfig: [String] = []
        package var allowedClients: AllowedClients?

        package init(trustParams: Bool = false, allowSpool: [String] = [], allowHandlers: [String] = [],
                     allowConfig: [String] = [], allowedClients: AllowedClients? = nil) {
            self.trustParams = trustParams
            self.allowSpool = allowSpool
            self.allowHandlers = allowHandlers
            self.allowConfig = allowConfig
            self.allowedClients = allowedClients
        }
    }

    package struct StartError: Error, CustomStringConvertible { package let description: String }

    package init(listener: Int32, rules: Rules, processEnvironment: [String: String]) throws(StartError) {
        guard let local = SocketAddress.local(of: listener) else {
            throw StartError(description: "cannot read the listening socket's address: \(String(cString: strerror(errno)))")
        }
        let onUnixSocket = local == .unix
        if onUnixSocket, rules.allowedClients != nil {
            throw StartError(description: "--allowed-clients is for a TCP listener; on a unix socket its owner and mode decide who connects")
        }
        if !local.isLoopback, rules.allowedClients == nil {
            throw StartError(description: "the listening socket is bound to \(local), beyond this host; name the web servers "
                + "it may serve with --allowed-clients ADDRESS[,ADDRESS...], or bind it to 127.0.0.1")
        }
        // The responder's own paths are always allowed: what its environment and config
        // file name (an empty value stands for the default, see ParameterOverridePolicy).
        let own = (try? SettingsLoader.variables(environment: processEnvironment)) ?? processEnvironment
        overrides = ParameterOverridePolicy(appliesOverrides: onUnixSocket || rules.trustParams, allowedPaths: [
            Settings.Key.spool: Set([own[Settings.Key.spool] ?? ""] + rules.allowSpool),
            Settings.Key.handlers: Set([own[Settings.Key.handlers] ?? ""] + rules.allowHandlers),
            Settings.Key.config: Set([processEnvironment[Settings.Key.config] ?? ""] + rules.allowConfig),
        ])
        clients = rules.allowedClients
    }

    /// Checks `--listen HOST:PORT` before anything is bound: an empty host (which would be
    /// every interface) is refused, and an address beyond loopback needs `--allowed-clients`.
    package static func checkListen(_ address: String, clients: AllowedClients?) throws(StartError) {
        if address.contains("/"), clients != nil {
            throw StartError(description: "--allowed-clients is for a TCP listener; on a unix socket its owner and mode decide who connects")
        }
        guard !address.contains("/"), let colon = address.lastIndex(of: ":") else { return }
        let host = address[..<colon], port = address[address.index(after: colon)...]
        guard !host.isEmpty else {
            throw StartError(description: "--listen \(address) names no host; write --listen 127.0.0.1:\(port) to serve "
                + "this host only (an address beyond loopback also needs --allowed-clients)")
        }
        guard clients == nil, host != "localhost", let bytes = SocketAddress.numeric(String(host)),
              !SocketAddress.internet(bytes).isLoopback else { return }
        throw StartError(description: "--listen \(address) serves beyond this host; name the web servers it may serve "
            + "with --allowed-clients ADDRESS[,ADDRESS...], or listen on 127.0.0.1:\(port)")
    }
}
