import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What only the persistent FastCGI responder has: how it is started, one process serving
/// several locations, parallel requests, shutdown, children, and clients that misbehave on its
/// socket. Every request-level scenario also runs through `.nginxFastCGI` and `.lighttpdFastCGI`
/// in the parametrized suites (DeliveryTests, HandlerTests, RefusalTests), among them 40
/// concurrent identical deliveries with exactly one handler run
/// (`DeliveryTests.concurrentIdenticalDeliveries`).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct FastCGITests {
    /// The parameters nginx's FastCGI section sends, for requests made straight on the socket;
    /// the settings point at the fixture's spool and handlers as the rendered config does.
    func directParams(_ server: WebServerFixture, method: String = "POST", body: [UInt8]) -> [String: String] {
        FastCGIConnection.nginxParams(method: method, body: body).merging([
            "PIXELHOOK_SPOOL": server.spool,
            "PIXELHOOK_HANDLERS": server.handlers,
            "PIXELHOOK_PROJECT_IDS": WebServerFixture.projectID,
        ]) { $1 }
    }

    /// `/proc/PID/comm`: the program a process runs now.
    func programName(_ pid: pid_t) -> String? {
        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("The responder started by spawn-fcgi, or by itself with --listen, answers a seed payload through nginx",
          arguments: ResponderLaunch.allCases)
    func started(_ launch: ResponderLaunch) throws {
        let server = try WebServerFixture(.nginxFastCGI, responder: launch)
        try server.writeRecorder(named: "build.approved")
        let pid = try #require(server.responderPID)
        // spawn-fcgi -n execs pixelhook in its own place: the recorded PID is the responder,
        // which serves through its child.
        #expect(programName(pid) == "pixelhook")
        let serving = try #require(server.servingResponderPID())
        #expect(programName(serving) == "pixelhook")
        var info = Glibc.stat()
        #expect(lstat(server.responderSocket, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK)
        #expect(info.st_mode & 0o777 == 0o660, "socket mode \(String(info.st_mode & 0o777, radix: 8))")

        let reply = try server.post(Payloads.seed("build.approved"))
        #expect(reply.status == 200, "\(reply)")
        #expect(reply.contentType == "application/json")
        #expect(reply.json == ["received": true, "event": "build.approved", "duplicate": false], "\(reply)")
        let results = try server.waitForHandlers(count: 1)
        #expect(results.values.first?["state"] == "done", "\(results)")
        #expect(server.runs == ["build.approved \(WebServerFixture.projectID)/665a2b3c4d5e6f7a8b9c0e1f/build.approved"])
        #expect(ProcTable.isAlive(pid))
    }

    @Test("One responder serves two nginx locations with their own PIXELHOOK_PROJECT_IDS and spools")
    func twoLocationsOneResponder() throws {
        let projectB = "111111111111111111111111"
        let pathB = "/hooks/streampixel-b"
        let server = try WebServerFixture(.nginxFastCGI, extraLocations: [
            ExtraLocation(path: pathB, settings: ["PIXELHOOK_PROJECT_IDS": projectB], spool: "spool-b"),
        ])
        let spoolB = server.directory + "/spool-b"
        try server.writeRecorder(named: "default")
        let forA = Payloads.event("build.uploaded", uploadId: "a-1")
        let forB = Payloads.event("build.uploaded", uploadId: "b-1", projectId: projectB)

        // Location B's health check first: it creates spool B. (A request refused before the
        // spool exists is answered but not logged: pixelhook creates the spool only to store.)
        let healthB = try server.request("GET", path: pathB)
        #expect(healthB.status == 200 && healthB.json == ["ok": true], "\(healthB)")

        let aOnA = try server.post(forA)
        let aOnB = try server.post(forA, path: pathB)
        let bOnB = try server.post(forB, path: pathB)
        let bOnA = try server.post(forB)
        #expect(aOnA.status == 200 && aOnA.json?["duplicate"] == false, "\(aOnA)")
        #expect(aOnB.status == 403 && aOnB.json?["error"] == "unknown_project", "\(aOnB)")
        #expect(bOnB.status == 200 && bOnB.json?["duplicate"] == false, "\(bOnB)")
        #expect(bOnA.status == 403 && bOnA.json?["error"] == "unknown_project", "\(bOnA)")

        try server.waitForHandlers(count: 1)
        try server.waitForHandlers(count: 1, spool: spoolB)
        #expect(server.storedDeliveries == ["\(WebServerFixture.projectID)/a-1/build.uploaded"])
        #expect(server.storedDeliveries(in: spoolB) == ["\(projectB)/b-1/build.uploaded"])
        #expect(server.runs.sorted() == [
            "build.uploaded \(projectB)/b-1/build.uploaded",
            "build.uploaded \(WebServerFixture.projectID)/a-1/build.uploaded",
        ].sorted())
        // Each location's requests land in its own spool's request log.
        func posts(_ log: [JSONValue]) -> [JSONValue] {
            log.filter { $0["method"] == "POST" }.map { ["status": $0["status"] ?? nil, "projectId": $0["projectId"] ?? nil] }
        }
        let a = JSONValue.string(WebServerFixture.projectID), b = JSONValue.string(projectB)
        #expect(posts(server.requestLog) == [["status": 200, "projectId": a], ["status": 403, "projectId": b]],
                "\(server.requestLog)")
        #expect(posts(server.requestLog(in: spoolB)) == [["status": 403, "projectId": a], ["status": 200, "projectId": b]],
                "\(server.requestLog(in: spoolB))")
        // All four went through the one responder the fixture started.
        let pid = try #require(server.responderPID)
        #expect(ProcTable.isAlive(pid))
    }

    @Test("A handler sleeping 10 s: 50 requests of other builds are all answered 200 meanwhile, each quickly")
    func slowHandlerHoldsNothing() throws {
        let server = try WebServerFixture(.nginxFastCGI)
        let out = server.directory
        try server.writeHandler(named: "default", """
            if [ "$PIXELHOOK_UPLOAD_ID" = slow-1 ]; then
                touch \(out)/slow.started
                sleep 10
                touch \(out)/slow.ended
            fi
            echo "$PIXELHOOK_EVENT $PIXELHOOK_DELIVERY" >> \(out)/runs.log
            """)
        let slow = try server.post(Payloads.event("build.uploaded", uploadId: "slow-1"))
        #expect(slow.status == 200, "\(slow)")
        let deadline = Date().addingTimeInterval(5)
        while access(out + "/slow.started", F_OK) != 0, Date() < deadline { usleep(10_000) }
        try #require(access(out + "/slow.started", F_OK) == 0, "the slow handler did not start")
        let slowStarted = Date()

        let inFlight = try (1...50).map { try server.startRequest("POST", body: Payloads.event("build.uploaded", uploadId: "fast-\($0)")) }
        let replies = try inFlight.map { try $0.wait() }
        let allAnswered = Date().timeIntervalSince(slowStarted)

        #expect(replies.allSatisfy { $0.status == 200 && $0.json?["duplicate"] == false }, "\(replies.filter { $0.status != 200 })")
        let slowest = replies.map(\.seconds).max() ?? 0
        #expect(slowest < 5, "the slowest of the 50 took \(slowest) s")
        #expect(allAnswered < 10, "all 50 answered \(allAnswered) s after the slow handler started")
        #expect(access(out + "/slow.ended", F_OK) != 0, "the slow handler ended before the 50 were answered")

        try server.waitForHandlers(count: 51, timeout: 30)
        #expect(server.runs.count == 51)
    }

    /// The requests in flight are made straight on the responder's socket, not through nginx:
    /// BEGIN_REQUEST and PARAMS first, SIGTERM, then the body. So each one is provably in flight
    /// when the signal arrives (it cannot have been answered without its body), with no timing
    /// guesswork about how far a rate-limited curl has got; and with two workers and four
    /// requests, two are being read by a worker and two still wait in the socket's backlog, the
    /// two kinds SPEC and README promise to answer. nginx, with `fastcgi_request_buffering on`,
    /// only connects once it holds the whole body, so through it this state would last
    /// microseconds.
    @Test("SIGTERM with requests in flight: the socket is gone at once, every request is answered, exit 0")
    func sigtermWithRequestsInFlight() throws {
        let server = try WebServerFixture(.nginxFastCGI, workers: 2)
        try server.writeRecorder(named: "default")
        let pid = try #require(server.responderPID)

        let bodies = (1...4).map { Array(Payloads.event("build.uploaded", uploadId: "term-\($0)")) }
        let connections = try bodies.map { body in
            let connection = try FastCGIConnection(socket: server.responderSocket)
            try connection.begin(params: directParams(server, body: body))
            return connection
        }
        usleep(300_000)  // the two workers take the first two (they poll the socket every 0.2 s)

        let signalled = Date()
        try server.signalResponder(SIGTERM)
        while access(server.responderSocket, F_OK) == 0, Date().timeIntervalSince(signalled) < 3 { usleep(2_000) }
        let socketGone = Date().timeIntervalSince(signalled)
        // README: it stops accepting and removes the socket file within 0.2 s.
        #expect(socketGone < 0.2, "the socket file was still there \(socketGone) s after SIGTERM")
        #expect(throws: FixtureError.self) { try FastCGIConnection(socket: server.responderSocket) }

        usleep(300_000)
        #expect(ProcTable.isAlive(pid), "the responder exited with four requests unanswered")
        for (connection, body) in zip(connections, bodies) { try connection.sendBody(body) }
        for (index, connection) in connections.enumerated() {
            let response = try connection.readResponse(timeout: 10)
            connection.close()
            #expect(response.ended, "request \(index + 1): \(response)")
            #expect(response.status == 200, "request \(index + 1): \(response)")
            #expect(response.json == ["received": true, "event": "build.uploaded", "duplicate": false], "request \(index + 1): \(response)")
        }
        #expect(try server.waitForResponderExit(timeout: 10) == 0, "the responder did not exit 0 after SIGTERM")

        // Answered means stored: every handler runs, though the responder is gone.
        try server.waitForHandlers(count: 4)
        #expect(server.runs.count == 4, "\(server.runs)")
    }

    @Test("No zombie is left under the responder once the handlers have run",
          arguments: [Gateway.nginxFastCGI, .lighttpdFastCGI])
    func noZombies(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try server.writeHandler(named: "default", """
            sleep 0.1
            echo "$PIXELHOOK_EVENT $PIXELHOOK_DELIVERY" >> \(server.directory)/runs.log
            """)
        // The responder that serves (under its supervising parent) starts the runners.
        let pid = try #require(server.servingResponderPID())
        for index in 1...10 {
            let reply = try server.post(Payloads.event("build.uploaded", uploadId: "z-\(index)"))
            #expect(reply.status == 200, "\(reply)")
        }
        try server.waitForHandlers(count: 10)
        #expect(server.runs.count == 10)

        // The runners write their result just before they exit: give them a moment to go.
        let deadline = Date().addingTimeInterval(5)
        while !ProcTable.children(of: pid).isEmpty, Date() < deadline { usleep(20_000) }
        #expect(ProcTable.children(of: pid).isEmpty, "still running under the responder: \(ProcTable.children(of: pid))")
        #expect(ProcTable.zombies(of: pid).isEmpty, "zombies under the responder \(pid): \(ProcTable.zombies(of: pid))")
        #expect(ProcTable.isAlive(pid))
    }

    @Test("Clients that break off mid-request or send garbage do not take the responder down")
    func brokenClients() throws {
        // One worker: a connection the responder never let go of would block the request after.
        let server = try WebServerFixture(.nginxFastCGI, workers: 1)
        try server.writeRecorder(named: "default")
        // The responder that serves: its supervising parent would replace it if it died.
        let pid = try #require(server.servingResponderPID())

        let body = Array(Payloads.event("build.uploaded", uploadId: "cut-1"))
        let begin = FastCGIConnection.beginRequest()
        let params = FastCGIConnection.params(directParams(server, body: body))
        var pseudoRandom: UInt32 = 0x2545F491
        let noise = (0..<4096).map { _ -> UInt8 in
            pseudoRandom ^= pseudoRandom << 13; pseudoRandom ^= pseudoRandom >> 17; pseudoRandom ^= pseudoRandom << 5
            return UInt8(truncatingIfNeeded: pseudoRandom)
        }
        // Sent, then the connection is closed at once.
        let cutOff: [(String, [UInt8])] = [
            ("half a record header", Array(begin.prefix(4))),
            ("half a BEGIN_REQUEST record", Array(begin.prefix(11))),
            ("PARAMS cut off", begin + Array(params.prefix(params.count / 2))),
            ("all PARAMS, no body", begin + params),
            ("half the body", begin + params + FastCGIConnection.record(.stdin, Array(body.prefix(body.count / 2)))),
            ("a huge PARAMS name length, then nothing", begin + FastCGIConnection.record(.params, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x41])),
        ]
        // Sent, then the write side is shut: the responder must close its end.
        let garbage: [(String, [UInt8])] = [
            ("an HTTP request", Array("POST /hooks/streampixel-fastcgi HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}".utf8)),
            ("4 KiB of noise", noise),
            ("a wrong protocol version", [9] + Array(begin.dropFirst())),
            ("an unknown role", FastCGIConnection.beginRequest(role: 77)),
            ("a record of an unknown type", FastCGIConnection.record(rawType: 99, requestID: 0, Array("12345678".utf8))),
        ]
        for (name, bytes) in cutOff {
            let connection = try FastCGIConnection(socket: server.responderSocket)
            try connection.send(bytes)
            connection.close()
            #expect(ProcTable.isAlive(pid), "after \(name)")
        }
        for (name, bytes) in garbage {
            let connection = try FastCGIConnection(socket: server.responderSocket)
            try? connection.send(bytes)  // it may hang up before all of the noise is written
            connection.shutdownWrite()
            #expect(connection.waitForClose(timeout: 10), "the responder kept the connection after \(name)")
            #expect(ProcTable.isAlive(pid), "after \(name)")
        }

        // Straight on the socket and through nginx, the next requests are served.
        let direct = try FastCGIConnection(socket: server.responderSocket)
        try direct.begin(params: directParams(server, method: "GET", body: []))
        try direct.sendBody([])
        let health = try direct.readResponse(timeout: 10)
        direct.close()
        #expect(health.status == 200 && health.json == ["ok": true], "\(health)")

        let reply = try server.post(Payloads.seed("build.approved"))
        #expect(reply.status == 200, "\(reply)")
        #expect(reply.json == ["received": true, "event": "build.approved", "duplicate": false], "\(reply)")
        try server.waitForHandlers(count: 1)
        #expect(server.storedDeliveries == ["\(WebServerFixture.projectID)/665a2b3c4d5e6f7a8b9c0e1f/build.approved"])
        #expect(server.runs.count == 1)
        #expect(ProcTable.isAlive(pid) && server.servingResponderPID(timeout: 0) == pid)
    }
}
