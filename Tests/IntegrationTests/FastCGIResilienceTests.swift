import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue #12, items 1 and 4: one client of the responder's socket cannot take deliveries down.
/// A record libfcgi would abort on ends that connection only; a responder that dies anyway is
/// replaced by its supervising parent while the socket keeps queueing; and connections nginx
/// keeps open (`fastcgi_keep_conn on` with an upstream `keepalive` pool) pin no worker.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct FastCGIResilienceTests {
    /// A name-value pair whose 4-byte lengths (0x7ffffff0 + 15) overflow libfcgi's `int` size.
    static let overflowingPair: [UInt8] = [0xFF, 0xFF, 0xFF, 0xF0, 0x80, 0x00, 0x00, 0x0F] + Array(repeating: 0x41, count: 8)

    enum AbortRecord: String, CaseIterable, CustomTestStringConvertible {
        /// In the PARAMS stream, then the empty PARAMS record (the reproduction).
        case inParams
        /// An FCGI_GET_VALUES management record after the params, where the body goes: libfcgi
        /// reads those while reading the body.
        case getValuesInBody
        var testDescription: String { rawValue }

        func bytes(params: [String: String], body: [UInt8]) -> [UInt8] {
            let begin = FastCGIConnection.beginRequest()
            switch self {
            case .inParams:
                return begin + FastCGIConnection.record(.params, overflowingPair) + FastCGIConnection.record(.params, [])
            case .getValuesInBody:
                return begin + FastCGIConnection.params(params)
                    + FastCGIConnection.record(rawType: 9, requestID: 0, overflowingPair) + FastCGIConnection.stream(.stdin, body)
            }
        }
    }

    @Test("A record libfcgi would abort on closes that connection; the same responder answers the next delivery 200",
          arguments: AbortRecord.allCases)
    func abortRecord(_ record: AbortRecord) throws {
        let server = try WebServerFixture(.nginxFastCGI, workers: 1)
        try server.writeRecorder(named: "default")
        let serving = try #require(server.servingResponderPID(), "no serving responder under \(server.responderPID.map(String.init) ?? "-")")

        let body = Array(Payloads.event("build.uploaded", uploadId: "evil-1"))
        let connection = try FastCGIConnection(socket: server.responderSocket)
        try? connection.send(record.bytes(params: FastCGITests().directParams(server, body: body), body: body))
        connection.shutdownWrite()
        #expect(connection.waitForClose(timeout: 10), "the responder kept the connection")
        connection.close()
        #expect(ProcTable.isAlive(serving), "the responder died (SIGABRT) on the record")
        #expect(server.servingResponderPID(timeout: 0) == serving, "the responder was replaced: it died on the record")
        if record == .getValuesInBody {
            // Its params were sound: the request is answered (a bad body, not stored) or dropped.
            #expect(!server.storedDeliveries.contains { $0.contains("evil-1") }, "\(server.storedDeliveries)")
        }

        let reply = try server.post(Payloads.seed("build.approved"))
        #expect(reply.status == 200, "\(reply)")
        #expect(reply.json == ["received": true, "event": "build.approved", "duplicate": false], "\(reply)")
        try server.waitForHandlers(count: 1)
        #expect(server.storedDeliveries == ["\(WebServerFixture.projectID)/665a2b3c4d5e6f7a8b9c0e1f/build.approved"])
    }

    @Test("kill -9 of the serving responder: its parent starts another, the next delivery is 200 and stored",
          arguments: ResponderLaunch.allCases)
    func killedResponderIsReplaced(_ launch: ResponderLaunch) throws {
        let server = try WebServerFixture(.nginxFastCGI, responder: launch)
        try server.writeRecorder(named: "default")
        let parent = try #require(server.responderPID)
        let first = try #require(server.servingResponderPID(), "no serving responder under \(parent)")

        kill(first, SIGKILL)
        // Straight away, while the new responder may still be starting: the socket holds it.
        let reply = try server.post(Payloads.seed("build.approved"))
        #expect(reply.status == 200, "\(reply)")
        #expect(reply.json == ["received": true, "event": "build.approved", "duplicate": false], "\(reply)")
        try server.waitForHandlers(count: 1)
        #expect(server.storedDeliveries == ["\(WebServerFixture.projectID)/665a2b3c4d5e6f7a8b9c0e1f/build.approved"])
        let second = try #require(server.servingResponderPID(other: first), "no new responder after the kill")
        #expect(ProcTable.isAlive(parent) && ProcTable.isAlive(second))
        let log = (try? String(contentsOfFile: server.logDirectory + "/pixelhook.out", encoding: .utf8)) ?? ""
        #expect(log.contains("ALARM: the responder (pid \(first)) was killed by signal 9"), "\(log)")

        // SIGTERM to the parent still stops both, exit 0, and the socket file it made is gone.
        try server.signalResponder(SIGTERM)
        #expect(try server.waitForResponderExit(timeout: 10) == 0)
        #expect(!ProcTable.isAlive(second))
        if launch == .listen { #expect(access(server.responderSocket, F_OK) != 0, "the socket file is still there") }
    }

    /// nginx's routine keep-alive tuning: an upstream pool kept open between requests.
    static func keptConnections(socket: String) -> (String) throws -> String {
        { config in
            let pass = "fastcgi_pass unix:\(socket);"
            guard config.contains(pass), config.contains("\nhttp {\n") else { throw FixtureError("the example has no \(pass) or http block") }
            return config
                .replacingOccurrences(of: pass, with: "fastcgi_pass pixelhook_pool; fastcgi_keep_conn on; fastcgi_read_timeout 10s;")
                .replacingOccurrences(of: "\nhttp {\n", with: "\nhttp {\n    upstream pixelhook_pool { server unix:\(socket); keepalive 32; }\n")
        }
    }

    @Test("fastcgi_keep_conn on with an upstream keepalive pool: 24 requests at once on 2 workers, every one 200 promptly")
    func keptConnectionsPinNoWorker() throws {
        var socket = ""
        let server = try WebServerFixture(.nginxFastCGI, workers: 2, prepare: { socket = $0 + "/pixelhook.sock" },
                                          configEdit: { try Self.keptConnections(socket: socket)($0) })
        try server.writeRecorder(named: "default")
        for round in 1...2 {
            let inFlight = try (1...24).map {
                try server.startRequest("POST", body: Payloads.event("build.uploaded", uploadId: "kept-\(round)-\($0)"))
            }
            let replies = try inFlight.map { try $0.wait() }
            #expect(replies.allSatisfy { $0.status == 200 }, "round \(round): \(replies.filter { $0.status != 200 }.prefix(3))")
            let slowest = replies.map(\.seconds).max() ?? 0
            #expect(slowest < 5, "round \(round): the slowest took \(slowest) s")
        }
        try server.waitForHandlers(count: 48, timeout: 30)
    }
}
