import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What a client of the responder's socket may decide (SPEC "Settings"): per-request
/// `PIXELHOOK_*` parameters apply on a unix socket, on TCP only with `--trust-params`; paths
/// only to values allowed at start; TCP serves loopback only unless `--allowed-clients` names
/// the clients. Each test starts `pixelhook fastcgi` on its own and speaks raw FastCGI to it,
/// as any local user could; the nginx path is `nginxPathNotAllowed`.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct FastCGITrustTests {
    static let otherProject = "111111111111111111111111"

    /// nginx's parameters for a POST (or GET) of `body`, plus `settings`.
    func params(_ settings: [String: String], method: String = "POST", query: String = "", body: [UInt8]) -> [String: String] {
        FastCGIConnection.nginxParams(method: method, query: query, body: body).merging(settings) { $1 }
    }

    func exchange(_ connection: FastCGIConnection, _ params: [String: String], body: [UInt8]) throws -> FastCGIResponse {
        try connection.exchange(params, body: body)
    }

    @Test("On TCP without --trust-params a client's PIXELHOOK_TOKEN, PROJECT_IDS, SPOOL and HANDLERS change nothing, and it is said")
    func tcpIgnoresParameters() throws {
        let port = try unusedLocalPort()
        let responder = try BareResponder(["--listen", "127.0.0.1:\(port)"], environment: ["PIXELHOOK_TOKEN": "s3cret"]) { _ in
            (try? FastCGIConnection(host: "127.0.0.1", port: port)) != nil
        }
        let body = Array(Payloads.event("build.approved", uploadId: "take-1", projectId: FastCGITrustTests.otherProject))
        let attack = [
            "PIXELHOOK_TOKEN": "mine", "PIXELHOOK_PROJECT_IDS": FastCGITrustTests.otherProject,
            "PIXELHOOK_SPOOL": responder.evilSpool, "PIXELHOOK_HANDLERS": responder.evilHandlers,
        ]
        let withOwnToken = try exchange(FastCGIConnection(host: "127.0.0.1", port: port), params(attack, query: "token=mine", body: body), body: body)
        #expect(withOwnToken.status == 401, "\(withOwnToken)")
        let stderr = String(decoding: withOwnToken.stderr, as: UTF8.self)
        #expect(stderr.contains("ignoring the web server's PIXELHOOK_HANDLERS, PIXELHOOK_PROJECT_IDS, PIXELHOOK_SPOOL, PIXELHOOK_TOKEN"), "\(stderr)")
        #expect(stderr.contains("--trust-params"), "\(stderr)")

        // With the real token, the responder's own allow-list still refuses the project.
        let withRealToken = try exchange(FastCGIConnection(host: "127.0.0.1", port: port), params(attack, query: "token=s3cret", body: body), body: body)
        #expect(withRealToken.status == 403 && withRealToken.json?["error"] == "unknown_project", "\(withRealToken)")

        #expect(access(responder.evilSpool, F_OK) != 0, "the client chose the spool")
        #expect(access(responder.evilMarker, F_OK) != 0, "the client's handler ran")
        // Once in the responder's own log, however often it happens.
        #expect(responder.log.components(separatedBy: "ignoring the web server's").count == 2, "\(responder.log)")
    }

    enum Listener: String, CaseIterable, CustomTestStringConvertible {
        case unixSocket, tcpWithTrustParams
        var testDescription: String { rawValue }
    }

    @Test("Non-path overrides apply; a spool, handlers or config not allowed at start is refused with 500 and an alarm; an allowed one works",
          arguments: Listener.allCases)
    func pathOverrides(_ listener: Listener) throws {
        let port = try unusedLocalPort()
        let arguments: [String] = switch listener {
        case .unixSocket: ["--listen", "SOCKET"]
        case .tcpWithTrustParams: ["--listen", "127.0.0.1:\(port)", "--trust-params"]
        }
        let responder = try BareResponder(arguments + ["--allow-spool", "DIR/allowed-spool"]) { directory in
            listener == .unixSocket ? access(directory + "/pixelhook.sock", F_OK) == 0
                : (try? FastCGIConnection(host: "127.0.0.1", port: port)) != nil
        }
        let allowed = responder.directory + "/allowed-spool", socketPath = responder.directory + "/pixelhook.sock"
        func connect() throws -> FastCGIConnection {
            listener == .unixSocket ? try FastCGIConnection(socket: socketPath) : try FastCGIConnection(host: "127.0.0.1", port: port)
        }
        let body = Array(Payloads.event("build.approved", uploadId: "path-1"))

        let otherProjects = try exchange(connect(), params(["PIXELHOOK_PROJECT_IDS": FastCGITrustTests.otherProject], body: body), body: body)
        #expect(otherProjects.status == 403 && otherProjects.json?["error"] == "unknown_project", "\(otherProjects)")

        let config = responder.directory + "/other.conf"
        try "PIXELHOOK_SPOOL=\(responder.evilSpool)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let refused: [(String, String, String)] = [
            ("PIXELHOOK_SPOOL", responder.evilSpool, "--allow-spool \(responder.evilSpool)"),
            ("PIXELHOOK_HANDLERS", responder.evilHandlers, "--allow-handlers \(responder.evilHandlers)"),
            ("PIXELHOOK_CONFIG", config, "--allow-config \(config)"),
            // Empty means the default spool, which is not the responder's own either.
            ("PIXELHOOK_SPOOL", "", "--allow-spool PATH"),
        ]
        for (key, value, option) in refused {
            let reply = try exchange(connect(), params([key: value], body: body), body: body)
            #expect(reply.status == 500 && reply.json?["error"] == "configuration", "\(key)=\(value): \(reply)")
            let stderr = String(decoding: reply.stderr, as: UTF8.self)
            #expect(stderr.contains("pixelhook: 500 configuration") && stderr.contains(key) && stderr.contains(option),
                    "\(key)=\(value): \(stderr)")
        }
        #expect(access(responder.evilSpool, F_OK) != 0, "a refused spool was created")
        #expect(access(responder.evilMarker, F_OK) != 0, "a refused handler ran")

        let toAllowed = try exchange(connect(), params(["PIXELHOOK_SPOOL": allowed], body: body), body: body)
        #expect(toAllowed.status == 200 && toAllowed.json?["duplicate"] == false, "\(toAllowed)")
        #expect(access(allowed + "/requests.log", F_OK) == 0, "the allowed spool holds no request log")
        responder.waitForRunners(spool: allowed)
    }

    @Test("--listen refuses an empty host, an address beyond loopback without --allowed-clients, and bad options, in one line",
          arguments: [
            (":PORT", [], "write --listen 127.0.0.1:PORT"),
            ("0.0.0.0:PORT", [], "--allowed-clients ADDRESS"),
            ("[::]:PORT", [], "--allowed-clients ADDRESS"),
            ("127.0.0.1:PORT", ["--allowed-clients", "10.0.0.1,nginx"], "got \"nginx\""),
            ("SOCKET", ["--allowed-clients", "127.0.0.1"], "--allowed-clients is for a TCP listener"),
            ("SOCKET", ["--allow-spool", "spool"], "--allow-spool takes an absolute path"),
          ] as [(String, [String], String)])
    func refusedListen(_ listen: String, _ more: [String], _ expected: String) throws {
        let port = try unusedLocalPort()
        let address = listen.replacingOccurrences(of: "PORT", with: String(port))
        let responder = try BareResponder(["--listen", address] + more, waitForExit: true)
        let line = responder.log.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(responder.exitCode == 64, "still running or exit \(String(describing: responder.exitCode)): \(line)")
        #expect(line.contains(expected.replacingOccurrences(of: "PORT", with: String(port))), "\(line)")
        #expect(!line.contains("\n"), "more than one line: \(line)")
        #expect((try? FastCGIConnection(host: "127.0.0.1", port: port)) == nil, "something listens on \(port)")
    }

    @Test("With --allowed-clients only listed addresses are served (checked at accept, IPv4 and IPv6)",
          arguments: [
            ("127.0.0.1", "127.0.0.2", nil, false),
            ("127.0.0.1", "127.0.0.2", "127.0.0.2", true),
            ("0.0.0.0", "127.0.0.2", nil, false),
            ("[::1]", "127.0.0.1", nil, false),
            ("[::1]", "::1", nil, true),
          ] as [(String, String, String?, Bool)])
    func allowedClients(_ host: String, _ clients: String, _ source: String?, _ served: Bool) throws {
        let port = try unusedLocalPort()
        let target = host == "[::1]" ? "::1" : "127.0.0.1"
        let responder = try BareResponder(["--listen", "\(host):\(port)", "--allowed-clients", clients]) { _ in
            // Ready once it accepts (and, refusing, closes) a connection.
            (try? FastCGIConnection(host: target, port: port)) != nil
        }
        // A refused client may find the connection closed before it has sent everything.
        let connection = try FastCGIConnection(host: target, port: port, source: source)
        try? connection.begin(params: params([:], method: "GET", body: []))
        try? connection.sendBody([])
        let reply = try connection.readResponse(timeout: 10)
        connection.close()
        if served {
            #expect(reply.ended && reply.status != nil, "\(reply)")
        } else {
            #expect(!reply.ended && reply.stdout.isEmpty, "a client not in \(clients) was answered: \(reply)")
            // Closed at accept, before a byte of it was read (FastCGIIntake), IPv4 and IPv6 alike.
            let peer = host == "[::1]" ? "::1" : "127.0.0.1"
            #expect(responder.log.contains("refused a connection from \(peer): not in --allowed-clients \(clients)"), "\(responder.log)")
        }
        #expect(responder.isRunning)
    }

    @Test("Through nginx: a location naming handlers the responder was not started to allow gets 500, and nginx's error log says why")
    func nginxPathNotAllowed() throws {
        let server = try WebServerFixture(.nginxFastCGI, settings: ["PIXELHOOK_HANDLERS": "/srv/elsewhere/handlers"])
        let reply = try server.post(Payloads.seed("build.approved"))
        #expect(reply.status == 500 && reply.json?["error"] == "configuration", "\(reply)")
        let errorLog = (try? String(contentsOfFile: server.logDirectory + "/error.log", encoding: .utf8)) ?? ""
        #expect(errorLog.contains("PIXELHOOK_HANDLERS=/srv/elsewhere/handlers")
                && errorLog.contains("--allow-handlers /srv/elsewhere/handlers"), "\(errorLog)")
        #expect(server.storedDeliveries.isEmpty)
    }
}
