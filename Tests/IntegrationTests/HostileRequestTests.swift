import Foundation
import Testing
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Requests and handlers written to do harm, through the real web servers: hostile ids, bodies
/// built to break a parser, a Content-Length that lies, a body that trickles in, handlers that
/// flood their output, leave daemons behind or cannot be run. For each: the SPEC's answer
/// ("One request"), no crash (no 502/504, no 5xx without pixelhook's JSON, the FastCGI
/// responder still the same live process), and nothing written outside the spool.
///
/// Already covered elsewhere, so not repeated here: plain invalid JSON, a missing or mistyped
/// field, a body over PIXELHOOK_MAX_BODY with Content-Length or chunked (`RefusalTests`); a
/// hostile uploadId staying inside the spool (`SpoolTests`, unit level); a handler's background
/// child in its group stopped at the timeout (`HandlerTests.timeoutKillsTheWholeGroup`); garbage
/// and cut-off FastCGI records straight on the responder's socket (`FastCGITests.brokenClients`);
/// `pixelhook check` wording for a directory or non-executable handler (`CheckCommandTests`).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct HostileRequestTests {
    /// Large enough for the 100k-deep bodies, below both example configs' 1 MiB server limit.
    static let roomyBody: [String: String?] = ["PIXELHOOK_MAX_BODY": "1000000"]

    /// One hostile id: its JSON text and the string it decodes to.
    struct HostileID: CustomStringConvertible {
        let label: String
        let json: String
        let value: String
        var description: String { label }
    }

    /// A marker no path may ever carry on disk: an id that escaped would create it.
    static let marker = "pixelhook-escape-\(getpid())"

    static let hostileIDs: [HostileID] = [
        HostileID(label: "../ to /tmp", json: "../../../../../../../tmp/\(marker)", value: "../../../../../../../tmp/\(marker)"),
        HostileID(label: "../ to the fixture", json: "../../../\(marker)", value: "../../../\(marker)"),
        HostileID(label: "slashes", json: "a/b/\(marker)", value: "a/b/\(marker)"),
        HostileID(label: "..", json: "..", value: ".."),
        HostileID(label: ".", json: ".", value: "."),
        HostileID(label: "NUL", json: #"nul\u0000byte"#, value: "nul\u{0}byte"),
        HostileID(label: "newlines", json: #"line\nbreak\r\n{\"forged\":true}"#, value: "line\nbreak\r\n{\"forged\":true}"),
        HostileID(label: "10 kB", json: String(repeating: "z", count: 10_000), value: String(repeating: "z", count: 10_000)),
        HostileID(label: "non-ASCII", json: "Caf\u{e9}-\u{6771}\u{4eac}-\u{1F680}", value: "Caf\u{e9}-\u{6771}\u{4eac}-\u{1F680}"),
        HostileID(label: "~none", json: "~none", value: "~none"),
    ]

    func body(event: String, projectId: String, uploadId: String, status: String = "pending") -> Data {
        Data("""
            {"event":"\(event)","projectId":"\(projectId)","uploadId":"\(uploadId)","fileUrl":null,\
            "status":"\(status)","objection":null,"timestamp":"2026-03-29T13:00:00.000Z"}
            """.utf8)
    }

    /// A handler for every event that logs `DELIVERY BASE64(UPLOAD_ID)`, one line a run.
    func writeIDRecorder(_ server: WebServerFixture) throws {
        try server.writeHandler(named: "default", """
            printf '%s %s\\n' "$PIXELHOOK_DELIVERY" "$(printf '%s' "$PIXELHOOK_UPLOAD_ID" | base64 -w0)" >> \(server.directory)/ids.log
            """)
    }

    @Test("projectId, uploadId and event with ../, /, NUL, newlines, 10 kB, non-ASCII: the SPEC's answers, all inside the spool",
          arguments: Gateway.allCases)
    func hostileIDs(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try writeIDRecorder(server)
        let before = server.filesOutsideSpool()
        let responder = server.servingResponderPID()
        let project = WebServerFixture.projectID
        var replies: [HTTPReply] = []
        for id in Self.hostileIDs {
            // An uploadId is anything: stored under a safe name, handed to the handler as it is.
            let upload = try server.post(body(event: "build.uploaded", projectId: project, uploadId: id.json))
            #expect(upload.status == 200 && upload.json?["duplicate"] == false, "uploadId \(id): \(upload)")
            // A projectId not allowed is refused; webhook.test is exempt, and stored safely too.
            let stranger = try server.post(body(event: "build.uploaded", projectId: id.json, uploadId: "u-1"))
            #expect(stranger.status == 403 && stranger.json?["error"] == "unknown_project", "projectId \(id): \(stranger)")
            unlink(server.spool + "/last-test")  // each test stored, not coalesced (TestThrottleTests)
            let test = try server.post(body(event: "webhook.test", projectId: id.json, uploadId: id.json, status: "test"))
            #expect(test.status == 200 && test.json?["event"] == "webhook.test", "webhook.test \(id): \(test)")
            // An event name pixelhook does not know: 200, logged, never stored, never a path.
            let event = try server.post(body(event: id.json, projectId: project, uploadId: "e-1"))
            #expect(event.status == 200 && event.json?["ignored"] == true, "event \(id): \(event)")
            #expect(event.json?["event"]?.string == id.value, "event \(id): \(event)")
            replies += [upload, stranger, test, event]
        }
        #expect(replies.allSatisfy { $0.contentType == "application/json" }, "\(replies.filter { $0.contentType != "application/json" })")

        let results = try server.waitForHandlers(count: 2 * Self.hostileIDs.count, timeout: 20)
        #expect(results.count == 2 * Self.hostileIDs.count, "\(results.keys.sorted())")
        #expect(results.values.allSatisfy { $0["state"] == "done" }, "\(results)")
        // Every delivery is PROJECT/BUILD/EVENT, each segment readable or `~` + SHA-256.
        for id in server.storedDeliveries {
            let segments = id.split(separator: "/", omittingEmptySubsequences: false)
            #expect(segments.count == 3 && segments.allSatisfy { !$0.isEmpty && !$0.hasPrefix(".") }, "\(id)")
        }
        // Handlers see the ids as sent (the environment cannot carry a NUL: cut there).
        let seen = server.lines(of: server.directory + "/ids.log").compactMap { line -> String? in
            guard let encoded = line.split(separator: " ").last, let data = Data(base64Encoded: String(encoded)) else { return nil }
            return String(decoding: data, as: UTF8.self)
        }
        let expected = Self.hostileIDs.map { $0.value.split(separator: "\0", omittingEmptySubsequences: false).first.map(String.init) ?? "" }
        #expect(seen.sorted() == (expected + expected).sorted(), "\(seen)")

        // One request, one parseable log line, whatever the ids held.
        let log = server.lines(of: server.spool + "/requests.log").map { JSONValue.parse(Data($0.utf8)) }
        #expect(log.allSatisfy { $0 != nil }, "a request log line is not JSON")
        #expect(log.filter { $0?["method"] == "POST" }.count == replies.count, "\(log.count) log lines for \(replies.count) POSTs")
        // Nothing outside the spool but what the handlers wrote.
        #expect(server.filesOutsideSpool().subtracting(before) == ["ids.log"], "\(server.filesOutsideSpool().subtracting(before))")
        for escaped in ["/tmp/\(Self.marker)", server.directory + "/\(Self.marker)", server.spool + "/\(Self.marker)"] {
            #expect(access(escaped, F_OK) != 0, "\(escaped) was created")
        }
        server.expectNoCrash(replies, responder: responder)
    }

    /// A valid envelope for the configured project with one more member, raw JSON text.
    func envelope(uploadId: String, extra: String) -> [UInt8] {
        Array("""
            {"event":"build.uploaded","projectId":"\(WebServerFixture.projectID)","uploadId":"\(uploadId)","fileUrl":null,\
            "status":"pending","objection":null,"timestamp":"2026-03-29T13:00:00.000Z",\(extra)}
            """.utf8)
    }

    /// `prefix`, then the bytes, then `suffix`: a valid envelope around something invalid.
    func envelope(objectionBytes: [UInt8]) -> [UInt8] {
        Array(#"{"event":"build.rejected","projectId":"\#(WebServerFixture.projectID)","uploadId":"utf-1","fileUrl":null,"status":"Reject","objection":""#.utf8)
            + objectionBytes + Array(#"","timestamp":"2026-03-29T13:00:00.000Z"}"#.utf8)
    }

    @Test("Bodies built to break a parser: 100k-deep nesting, huge numbers, duplicate keys, invalid UTF-8",
          arguments: Gateway.allCases)
    func hostileBodies(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: Self.roomyBody)
        try server.writeRecorder(named: "default")
        let before = server.filesOutsideSpool()
        let responder = server.servingResponderPID()
        let deep = 100_000
        let digits400 = "9" + String(repeating: "8", count: 399)
        let project = WebServerFixture.projectID
        let refused: [(String, [UInt8], String)] = [
            ("100k nested arrays", Array((String(repeating: "[", count: deep) + String(repeating: "]", count: deep)).utf8), "nesting"),
            ("100k nested objects in a member", envelope(uploadId: "deep-1", extra: "\"x\":" + String(repeating: "{\"a\":", count: deep) + "1" + String(repeating: "}", count: deep)), "nesting"),
            ("100k unclosed brackets", Array(String(repeating: "[", count: deep).utf8), "nesting"),
            ("1e999999 as uploadId", Array(#"{"event":"build.uploaded","projectId":"\#(project)","uploadId":1e999999,"status":"pending","timestamp":"2026-03-29T13:00:00.000Z"}"#.utf8), "uploadId"),
            ("a 400-digit projectId", Array(#"{"event":"build.uploaded","projectId":\#(digits400),"uploadId":"n-1","status":"pending","timestamp":"2026-03-29T13:00:00.000Z"}"#.utf8), "projectId"),
            ("projectId twice, allowed one first", envelope(uploadId: "dup-1", extra: #""projectId":"000000000000000000000000""#), "twice"),
            ("event twice", envelope(uploadId: "dup-2", extra: #""event":"build.approved""#), "twice"),
            ("a lone 0xFF byte", envelope(objectionBytes: [0x61, 0xFF, 0x62]), "UTF-8"),
            ("a cut multi-byte sequence", envelope(objectionBytes: [0xE6, 0x9D]), "UTF-8"),
            ("an overlong /", envelope(objectionBytes: [0xC0, 0xAF]), "UTF-8"),
            ("a UTF-8 encoded surrogate", envelope(objectionBytes: [0xED, 0xA0, 0x80]), "UTF-8"),
            ("an escaped lone surrogate", envelope(objectionBytes: Array(#"\ud800"#.utf8)), "surrogate"),
            ("a raw NUL in a string", envelope(objectionBytes: [0x61, 0x00, 0x62]), "control character"),
        ]
        // Unknown members are ignored (SPEC 5), however odd their numbers.
        let accepted: [(String, [UInt8])] = [
            ("1e999999 in an unknown member", envelope(uploadId: "num-1", extra: #""n":1e999999,"m":-1e-999999"#)),
            ("a 400-digit integer in an unknown member", envelope(uploadId: "num-2", extra: #""n":\#(digits400)"#)),
            ("32-deep nesting in an unknown member", envelope(uploadId: "num-3", extra: "\"x\":" + String(repeating: "[", count: 32) + String(repeating: "]", count: 32))),
        ]
        var replies: [HTTPReply] = []
        for (name, bytes, reason) in refused {
            let reply = try server.post(Data(bytes))
            replies.append(reply)
            #expect(reply.status == 400, "\(name): \(reply)")
            #expect(reply.contentType == "application/json", "\(name): \(reply)")
            #expect(reply.json?["error"] == "invalid_payload", "\(name): \(reply)")
            #expect(reply.json?["reason"]?.string?.contains(reason) == true, "\(name): \(reply)")
            #expect(reply.seconds < 5, "\(name) took \(reply.seconds) s")
        }
        #expect(server.storedDeliveries.isEmpty, "\(server.storedDeliveries)")
        for (name, bytes) in accepted {
            let reply = try server.post(Data(bytes))
            replies.append(reply)
            #expect(reply.status == 200 && reply.json?["duplicate"] == false, "\(name): \(reply)")
        }
        let results = try server.waitForHandlers(count: accepted.count)
        #expect(results.values.allSatisfy { $0["state"] == "done" }, "\(results)")
        for (index, (name, bytes)) in accepted.enumerated() {
            let stored = FileManager.default.contents(atPath: "\(server.spool)/deliveries/\(project)/num-\(index + 1)/build.uploaded.json")
            #expect(stored == Data(bytes), "\(name): stored payload differs")
        }
        let log = server.lines(of: server.spool + "/requests.log").map { JSONValue.parse(Data($0.utf8)) }
        #expect(log.allSatisfy { $0 != nil } && log.filter { $0?["method"] == "POST" }.count == replies.count, "\(log.count) log lines")
        #expect(server.filesOutsideSpool().subtracting(before) == ["runs.log"])
        server.expectNoCrash(replies, responder: responder)
    }

    @Test("A Content-Length that lies: 1 GB with a short body is 413 at once; a short body is refused; nothing stored",
          arguments: Gateway.allCases)
    func lyingContentLength(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try server.writeRecorder(named: "default")
        let responder = server.servingResponderPID()
        let body = Array(Payloads.event("build.uploaded", uploadId: "lie-1"))
        var replies: [HTTPReply] = []

        // Announced far over every limit, connection kept open: decided from the header alone.
        let huge = try RawHTTPConnection(port: server.port)
        try huge.send(RawHTTPConnection.head(path: gateway.path, contentLength: 1_000_000_000) + body)
        let tooLarge = try huge.readReply(timeout: 10)
        huge.close()
        #expect(tooLarge.status == 413, "\(tooLarge)")
        #expect(tooLarge.seconds < 5, "the 413 took \(tooLarge.seconds) s")
        replies.append(tooLarge)

        // Announced more than is sent, then the client stops sending: refused (by pixelhook or by
        // the server, which reads the body first), never stored, never a hang.
        for announced in [body.count + 100, 200_000] {
            let short = try RawHTTPConnection(port: server.port)
            try short.send(RawHTTPConnection.head(path: gateway.path, contentLength: announced) + body)
            short.shutdownWrite()
            let reply = try short.readReply(timeout: 15)
            short.close()
            #expect(reply.status == 0 || (400...499).contains(reply.status), "Content-Length \(announced): \(reply)")
            if reply.status != 0 { replies.append(reply) }
        }
        #expect(server.storedDeliveries.isEmpty, "\(server.storedDeliveries)")

        // The same body with its true length is then stored and run.
        let honest = try server.post(Data(body))
        replies.append(honest)
        #expect(honest.status == 200 && honest.json?["duplicate"] == false, "\(honest)")
        try server.waitForHandlers(count: 1)
        #expect(server.runs == ["build.uploaded \(WebServerFixture.projectID)/lie-1/build.uploaded"])
        server.expectNoCrash(replies, responder: responder)
    }

    @Test("A body sent in pieces with pauses is stored whole; the server answers others meanwhile",
          arguments: Gateway.allCases)
    func slowBody(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try server.writeRecorder(named: "default")
        let responder = server.servingResponderPID()
        let body = Array(Payloads.event("build.uploaded", uploadId: "slow-body-1", padding: 3000))
        let connection = try RawHTTPConnection(port: server.port)
        try connection.send(RawHTTPConnection.head(path: gateway.path, contentLength: body.count))
        let pieces = 3
        let size = (body.count + pieces - 1) / pieces
        var health: HTTPReply?
        for start in stride(from: 0, to: body.count, by: size) {
            try connection.send(Array(body[start..<min(body.count, start + size)]))
            if health == nil { health = try server.request("GET") }
            usleep(250_000)
        }
        let reply = try connection.readReply(timeout: 10)
        connection.close()
        #expect(reply.status == 200 && reply.json?["duplicate"] == false, "\(reply)")
        #expect(health?.status == 200 && (health?.seconds ?? 99) < 5, "health check during the slow body: \(String(describing: health))")

        try server.waitForHandlers(count: 1)
        let id = "\(WebServerFixture.projectID)/slow-body-1/build.uploaded"
        #expect(FileManager.default.contents(atPath: "\(server.spool)/deliveries/\(id).json") == Data(body))
        #expect(server.runs == ["build.uploaded \(id)"])
        server.expectNoCrash([reply] + (health.map { [$0] } ?? []), responder: responder)
    }

    @Test("A handler printing 100 MB: output kept to 64 KiB, counted whole, the spool stays small",
          arguments: [Gateway.lighttpdCGI, .nginxFastCGI])
    func floodingHandler(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try server.writeHandler(named: "default", "head -c 100000000 /dev/zero; echo finished >&2")
        let before = server.filesOutsideSpool()
        let reply = try server.post(Payloads.event("build.uploaded", uploadId: "flood-1"))
        #expect(reply.status == 200, "\(reply)")
        #expect(reply.seconds < 5, "the request took \(reply.seconds) s")

        let results = try server.waitForHandlers(count: 1, timeout: 30)
        let id = "\(WebServerFixture.projectID)/flood-1/build.uploaded"
        let result = try #require(results[id], "\(results)")
        #expect(result["state"] == "done", "\(result)")
        #expect(result["outputBytes"] == .number(100_000_009), "\(result)")
        #expect(result["outputTruncated"] == true, "\(result)")
        var info = Glibc.stat()
        #expect(stat("\(server.spool)/deliveries/\(id).output", &info) == 0 && info.st_size == 64 * 1024, "output file \(info.st_size) bytes")
        #expect(WebServerFixture.bytes(under: server.spool) < 256 * 1024, "spool holds \(WebServerFixture.bytes(under: server.spool)) bytes")
        #expect(server.filesOutsideSpool().subtracting(before).isEmpty)
        server.expectNoCrash([reply], responder: server.servingResponderPID())
    }

    @Test("Daemons a handler leaves (setsid, TERM ignored) are gone after the timeout and after a quick exit",
          arguments: [Gateway.nginxFcgiwrap, .lighttpdFastCGI])
    func daemonizingHandler(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_HANDLER_TIMEOUT": "1"])
        let out = server.directory
        // Each run starts: a daemon in a session of its own (setsid, stdio closed: the classic
        // double fork), and a child in the handler's group that ignores SIGTERM. Then `hang-*`
        // outlives the timeout and `quick-*` exits 0 at once.
        try server.writeHandler(named: "default", """
            setsid sh -c 'echo $$ > \(out)/$PIXELHOOK_UPLOAD_ID.daemon; exec sleep 300' </dev/null >/dev/null 2>&1 &
            sh -c 'trap "" TERM; echo $$ > \(out)/$PIXELHOOK_UPLOAD_ID.stubborn; exec sleep 300' </dev/null >/dev/null 2>&1 &
            while [ ! -s \(out)/$PIXELHOOK_UPLOAD_ID.daemon ] || [ ! -s \(out)/$PIXELHOOK_UPLOAD_ID.stubborn ]; do sleep 0.05; done
            case "$PIXELHOOK_UPLOAD_ID" in hang-*) sleep 300 ;; esac
            exit 0
            """)
        var pids: [String: pid_t] = [:]
        defer {
            // Whatever survived is this test's: stopped by its recorded PID.
            for pid in pids.values where ProcTable.isAlive(pid) { kill(pid, SIGKILL) }
        }
        let hang = try server.post(Payloads.event("build.uploaded", uploadId: "hang-1"))
        let quick = try server.post(Payloads.event("build.uploaded", uploadId: "quick-1"))
        #expect(hang.status == 200 && quick.status == 200, "\(hang) \(quick)")
        let results = try server.waitForHandlers(count: 2, timeout: 20)
        #expect(results["\(WebServerFixture.projectID)/hang-1/build.uploaded"]?["state"] == "timeout", "\(results)")
        #expect(results["\(WebServerFixture.projectID)/quick-1/build.uploaded"]?["state"] == "done", "\(results)")
        for build in ["hang-1", "quick-1"] {
            for kind in ["daemon", "stubborn"] {
                let name = "\(build).\(kind)"
                pids[name] = server.lines(of: "\(out)/\(name)").first.flatMap { pid_t($0) }
            }
        }
        #expect(pids.count == 4, "\(pids)")
        // TERM, then KILL after 2 s: allow for both.
        for (name, pid) in pids.sorted(by: { $0.key < $1.key }) {
            #expect(ProcTable.waitUntilGone(pid, timeout: 5), "\(name) \(pid) is still running after its handler ended")
        }
        server.expectNoCrash([hang, quick], responder: server.servingResponderPID())
    }

    @Test("A handler that is a directory or not executable: delivery failed, `check` names it, `retry` runs it once fixed",
          arguments: [Gateway.lighttpdCGI, .nginxFastCGI])
    func unrunnableHandler(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        let directoryHandler = server.handlers + "/build.approved"
        let plainFile = server.handlers + "/build.uploaded"
        try FileManager.default.createDirectory(atPath: directoryHandler, withIntermediateDirectories: false)
        try "#!/bin/sh\necho never\n".write(toFile: plainFile, atomically: true, encoding: .utf8)
        chmod(plainFile, 0o644)

        let approved = try server.post(Payloads.event("build.approved", uploadId: "bad-1", status: "Approved"))
        let uploaded = try server.post(Payloads.event("build.uploaded", uploadId: "bad-2"))
        #expect(approved.status == 200 && uploaded.status == 200, "\(approved) \(uploaded)")
        let results = try server.waitForHandlers(count: 2)
        let approvedResult = results["\(WebServerFixture.projectID)/bad-1/build.approved"]
        let uploadedResult = results["\(WebServerFixture.projectID)/bad-2/build.uploaded"]
        #expect(approvedResult?["state"] == "failed", "\(results)")
        #expect(approvedResult?["detail"]?.string?.contains("\(directoryHandler) is a directory") == true, "\(results)")
        #expect(uploadedResult?["state"] == "failed", "\(results)")
        #expect(uploadedResult?["detail"]?.string?.contains("\(plainFile) is not executable") == true, "\(results)")

        let check = try server.runPixelhook(["check"])
        #expect(check.status == 1, "\(check)")
        #expect(check.output.contains(directoryHandler) && check.output.contains(plainFile), "\(check.output)")

        // Fixed: `retry` runs both once.
        try FileManager.default.removeItem(atPath: directoryHandler)
        try server.writeRecorder(named: "build.approved")
        try server.writeRecorder(named: "build.uploaded")
        try StoredAttempts.endedLongAgo(spool: server.spool)  // past the back-off (SPEC "Retries")
        let retry = try server.runPixelhook(["retry"])
        #expect(retry.status == 0, "\(retry)")
        #expect(server.runs.sorted() == [
            "build.approved \(WebServerFixture.projectID)/bad-1/build.approved",
            "build.uploaded \(WebServerFixture.projectID)/bad-2/build.uploaded",
        ], "\(server.runs)")
        let after = try server.waitForHandlers(count: 2)
        #expect(after.values.allSatisfy { $0["state"] == "done" }, "\(after)")
        #expect(try server.runPixelhook(["check"], settings: ["PIXELHOOK_TOKEN": "s3cret"]).status == 0)
        server.expectNoCrash([approved, uploaded], responder: server.servingResponderPID())
    }
}
