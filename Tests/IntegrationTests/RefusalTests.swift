import Foundation
import Testing

/// Every 4xx/5xx row of SPEC "One request", and the health check, through each real web server.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RefusalTests {
    /// A refusal: the status, JSON with the error code and a reason, the JSON media type.
    func expectRefusal(_ reply: HTTPReply, _ status: Int, _ code: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == status, "\(reply)", sourceLocation: sourceLocation)
        #expect(reply.contentType == "application/json", "\(reply)", sourceLocation: sourceLocation)
        #expect(reply.json?["error"] == .string(code), "\(reply)", sourceLocation: sourceLocation)
        #expect(reply.json?["reason"]?.string?.isEmpty == false, "\(reply)", sourceLocation: sourceLocation)
    }

    @Test("GET and HEAD are the health check: 200 {\"ok\":true}", arguments: Gateway.allCases)
    func health(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_TOKEN": "s3cret"])
        let get = try server.request("GET")  // no token needed
        #expect(get.status == 200, "\(get)")
        #expect(get.contentType == "application/json")
        #expect(get.json == ["ok": true], "\(get)")

        let head = try server.request("HEAD")
        #expect(head.status == 200, "\(head)")
        #expect(head.contentType == "application/json")
        #expect(head.header("Content-Length") == "11", "\(head)")
    }

    @Test("Other methods: 405 with Allow: GET, HEAD, POST", arguments: Gateway.allCases)
    func methodNotAllowed(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        for method in ["PUT", "DELETE", "PATCH"] {
            let reply = try server.request(method, body: Payloads.seed("build.approved"))
            expectRefusal(reply, 405, "method_not_allowed")
            #expect(reply.header("Allow") == "GET, HEAD, POST", "\(method): \(reply)")
        }
        #expect(server.storedDeliveries.isEmpty)
    }

    @Test("PIXELHOOK_TOKEN set: a missing or wrong ?token= is 401", arguments: Gateway.allCases)
    func token(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_TOKEN": "s3cret"])
        let body = Payloads.event("build.uploaded", uploadId: "tok-1")
        expectRefusal(try server.post(body), 401, "unauthorized")
        expectRefusal(try server.post(body, query: "token=wrong"), 401, "unauthorized")
        expectRefusal(try server.post(body, query: "token=s3cre"), 401, "unauthorized")
        expectRefusal(try server.post(body, query: "token="), 401, "unauthorized")
        // A body larger than a pipe holds, refused before it is read: still the JSON 401, not
        // fcgiwrap's 502 for a CGI that exited while fcgiwrap was writing the body to it.
        let large = Payloads.event("build.uploaded", uploadId: "tok-large", padding: 512 * 1024)
        expectRefusal(try server.post(large, query: "token=wrong"), 401, "unauthorized")
        #expect(server.storedDeliveries.isEmpty)

        let right = try server.post(body, query: "token=s3cret")
        #expect(right.status == 200, "\(right)")
        #expect(right.json == ["received": true, "event": "build.uploaded", "duplicate": false])
    }

    /// `openssl rand -base64` tokens hold `+`, `/` and `=`; pasted as they are, the `+` reaches
    /// pixelhook form-encoded (a space). Both readings are compared.
    @Test("A base64 token with + pasted as it is into ?token= is accepted", arguments: Gateway.allCases)
    func tokenWithPlus(_ gateway: Gateway) throws {
        let token = "q+Zx/8kP3Lw+ab=="
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_TOKEN": token])
        let body = Payloads.event("build.uploaded", uploadId: "plus-1")
        let pasted = try server.post(body, query: "token=\(token)")
        #expect(pasted.status == 200, "\(pasted)")
        let encoded = try server.post(Payloads.event("build.uploaded", uploadId: "plus-2"), query: "token=q%2BZx%2F8kP3Lw%2Bab%3D%3D")
        #expect(encoded.status == 200, "\(encoded)")
        expectRefusal(try server.post(body, query: "token=q+Zx/8kP3Lw+ab="), 401, "unauthorized")
        expectRefusal(try server.post(body, query: "token=q-Zx/8kP3Lw+ab=="), 401, "unauthorized")
        #expect(server.storedDeliveries.count == 2)
    }

    @Test("A media type other than application/json is 415", arguments: Gateway.allCases)
    func unsupportedMediaType(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        let body = Payloads.event("build.uploaded", uploadId: "mt-1")
        expectRefusal(try server.request("POST", body: body, contentType: "text/plain"), 415, "unsupported_media_type")
        expectRefusal(try server.request("POST", body: body, contentType: "application/x-www-form-urlencoded"), 415, "unsupported_media_type")
        expectRefusal(try server.request("POST", body: body, contentType: nil), 415, "unsupported_media_type")
        #expect(server.storedDeliveries.isEmpty)

        // Parameters such as charset are allowed.
        let withCharset = try server.request("POST", body: body, contentType: "application/json; charset=utf-8")
        #expect(withCharset.status == 200, "\(withCharset)")
    }

    @Test("A body larger than PIXELHOOK_MAX_BODY is 413", arguments: Gateway.allCases)
    func payloadTooLarge(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_MAX_BODY": "1024"])
        let large = Payloads.event("build.uploaded", uploadId: "big-1", padding: 4000)
        expectRefusal(try server.post(large), 413, "payload_too_large")
        // Without Content-Length (chunked), pixelhook must stop reading past the limit itself.
        expectRefusal(try server.request("POST", body: large, chunked: true), 413, "payload_too_large")
        #expect(server.storedDeliveries.isEmpty)

        let small = Payloads.event("build.uploaded", uploadId: "big-1", padding: 1024 - 200)
        #expect(small.count <= 1024)
        let reply = try server.post(small)
        #expect(reply.status == 200, "\(reply)")
    }

    /// SPEC "One request" rule 4: a body up to the web server's own limit (1 MiB in every
    /// example) gets pixelhook's JSON 413, never the gateway's 502. fcgiwrap fails a CGI that
    /// exits with its body unread once the body outgrows the pipe (64 KiB): 512 KB is the case
    /// that used to get `502 An error occurred while reading the request`. Above the
    /// server's limit (10 MB) the server answers 413 itself, before pixelhook runs.
    @Test("Over-limit bodies of 2 KB, 512 KB and 10 MB through every gateway: JSON 413", arguments: Gateway.withApache)
    func overLimitBodies(_ gateway: Gateway) throws {
        let strict = try WebServerFixture(gateway, settings: ["PIXELHOOK_MAX_BODY": "1024"])
        expectRefusal(try strict.post(Payloads.event("build.uploaded", uploadId: "over-2k", padding: 2000)), 413, "payload_too_large")
        #expect(strict.storedDeliveries.isEmpty)

        let server = try WebServerFixture(gateway)
        let halfMegabyte = Payloads.event("build.uploaded", uploadId: "over-512k", padding: 512 * 1024)
        expectRefusal(try server.post(halfMegabyte), 413, "payload_too_large")
        expectRefusal(try server.request("POST", body: halfMegabyte, chunked: true), 413, "payload_too_large")

        let tenMegabytes = try server.post(Payloads.event("build.uploaded", uploadId: "over-10m", padding: 10 * 1024 * 1024))
        #expect(tenMegabytes.status == 413, "\(tenMegabytes)")
        #expect(server.storedDeliveries.isEmpty)

        // The refusals left nothing behind: the next delivery is served as usual.
        let next = try server.post(Payloads.event("build.uploaded", uploadId: "after-over"))
        #expect(next.status == 200, "\(next)")
    }

    @Test("Invalid JSON or a missing field is 400 with the reason", arguments: Gateway.allCases)
    func invalidPayload(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        let bodies = [
            "not json",
            "[1,2,3]",
            "{\"event\":\"build.uploaded\"",
            #"{"event":"build.uploaded","projectId":"664f1a2b3c4d5e6f7a8b9c0d","uploadId":"x","timestamp":"2026-03-29T13:00:00.000Z"}"#,
            #"{"event":null,"projectId":"664f1a2b3c4d5e6f7a8b9c0d","uploadId":"x","status":"pending","timestamp":"2026-03-29T13:00:00.000Z"}"#,
            #"{"event":"build.uploaded","projectId":42,"uploadId":"x","status":"pending","timestamp":"2026-03-29T13:00:00.000Z"}"#,
            #"{"event":"build.uploaded","projectId":"664f1a2b3c4d5e6f7a8b9c0d","uploadId":"x","status":"pending","timestamp":"yesterday"}"#,
            "",
        ]
        for body in bodies {
            let reply = try server.post(Data(body.utf8))
            expectRefusal(reply, 400, "invalid_payload")
        }
        let missing = try server.post(Data(bodies[3].utf8))
        #expect(missing.json?["reason"]?.string?.contains("status") == true, "\(missing)")
        #expect(server.storedDeliveries.isEmpty)
    }

    @Test("A projectId not in PIXELHOOK_PROJECT_IDS is 403: nothing stored, no handler", arguments: Gateway.allCases)
    func unknownProject(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway)
        try server.writeRecorder(named: "default")
        let stranger = "000000000000000000000000"
        expectRefusal(try server.post(Payloads.event("build.approved", uploadId: "p-1", projectId: stranger)), 403, "unknown_project")
        #expect(!FileManager.default.fileExists(atPath: server.spool + "/deliveries/" + stranger))

        // A delivery after it: once its handler has run, the refused one's would have too.
        #expect(try server.post(Payloads.event("build.uploaded", uploadId: "p-2")).status == 200)
        try server.waitForHandlers(count: 1)
        #expect(server.storedDeliveries == ["\(WebServerFixture.projectID)/p-2/build.uploaded"])
        #expect(server.runs == ["build.uploaded \(WebServerFixture.projectID)/p-2/build.uploaded"])
        #expect(server.requestLog.contains { $0["projectId"] == .string(stranger) && $0["status"] == 403 })
    }

    @Test("PIXELHOOK_PROJECT_IDS unset: every POST is 500, health is 503", arguments: Gateway.allCases)
    func projectIDsUnset(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_PROJECT_IDS": nil])
        expectRefusal(try server.post(Payloads.seed("build.approved")), 500, "configuration")
        expectRefusal(try server.post(Payloads.seed("webhook.test")), 500, "configuration")
        #expect(server.storedDeliveries.isEmpty)

        let health = try server.request("GET")
        #expect(health.status == 503, "\(health)")
        #expect(health.contentType == "application/json")
        #expect(health.json?["ok"] == false, "\(health)")
        #expect(health.json?["error"]?.string?.contains("PIXELHOOK_PROJECT_IDS") == true, "\(health)")
    }

    /// Root ignores mode bits, so a chmod'ed spool would still be writable. Instead the spool's
    /// parent is a regular file: creating the spool fails (ENOTDIR) for any user, without the
    /// mount privileges a read-only bind mount would need.
    @Test("A spool that cannot be written: POST is 503, health is 503", arguments: Gateway.allCases)
    func spoolUnwritable(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, spool: "blocker/spool") { directory in
            try Data("a regular file, not a directory\n".utf8).write(to: URL(fileURLWithPath: directory + "/blocker"))
        }
        let post = try server.post(Payloads.seed("build.approved"))
        expectRefusal(post, 503, "storage")

        let health = try server.request("GET")
        #expect(health.status == 503, "\(health)")
        #expect(health.contentType == "application/json")
        #expect(health.json?["ok"] == false, "\(health)")
        #expect(health.json?["error"]?.string?.isEmpty == false, "\(health)")
        // The internet learns the kind of failure, never where the spool is or the OS's words.
        for reply in [post, health] {
            let text = String(decoding: reply.body, as: UTF8.self)
            #expect(!text.contains(server.directory), "\(reply)")
            #expect(!text.contains("Not a directory"), "\(reply)")
        }
    }
}
