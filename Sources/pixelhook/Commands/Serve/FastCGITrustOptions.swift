import ArgumentParser
import PixelhookGateways

/// `pixelhook fastcgi`'s options for what the web server (and anyone else who can connect) may
/// decide per request; they become a `FastCGITrust` once the listening socket is known.
struct FastCGITrustOptions: ParsableArguments {
    @Flag(help: ArgumentHelp("""
        On TCP, apply the PIXELHOOK_* parameters the web server sends per request (without \
        it they are ignored there, since any local user can connect; on a unix socket they \
        always apply). Paths still need the --allow-* options.
        """))
    var trustParams = false

    @Option(parsing: .singleValue, help: ArgumentHelp(
        "A PIXELHOOK_SPOOL a request may name (repeatable); the responder's own is always allowed.", valueName: "path"))
    var allowSpool: [String] = []

    @Option(parsing: .singleValue, help: ArgumentHelp(
        "A PIXELHOOK_HANDLERS a request may name (repeatable); the responder's own is always allowed.", valueName: "path"))
    var allowHandlers: [String] = []

    @Option(parsing: .singleValue, help: ArgumentHelp(
        "A PIXELHOOK_CONFIG a request may name (repeatable); the responder's own is always allowed.", valueName: "file"))
    var allowConfig: [String] = []

    @Option(help: ArgumentHelp("""
        Comma-separated IP addresses a TCP listener serves, and only those (loopback too only \
        if listed). Required to listen beyond loopback.
        """, valueName: "addresses"))
    var allowedClients: String?

    func validate() throws {
        for (option, paths) in [("--allow-spool", allowSpool), ("--allow-handlers", allowHandlers), ("--allow-config", allowConfig)] {
            if let relative = paths.first(where: { !$0.hasPrefix("/") }) {
                throw ValidationError("\(option) takes an absolute path, got \(relative)")
            }
        }
        _ = try parsedClients()
    }

    var rules: FastCGITrust.Rules {
        get throws {
            FastCGITrust.Rules(trustParams: trustParams, allowSpool: allowSpool, allowHandlers: allowHandlers,
                               allowConfig: allowConfig, allowedClients: try parsedClients())
        }
    }

    private func parsedClients() throws -> AllowedClients? {
        guard let allowedClients else { return nil }
        do {
            return try AllowedClients(parsing: allowedClients)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
