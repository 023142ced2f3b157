import Testing
@testable import PixelhookCore

@Suite("Triage")
struct TriageTests {
    static func post(query: String = "", contentType: String? = "application/json",
                     contentLength: Int? = nil) -> RequestHead {
        RequestHead(method: "POST", queryString: query, contentType: contentType, contentLength: contentLength)
    }

    // MARK: head: step 1, method

    @Test("GET and HEAD are health checks, whatever the settings", arguments: ["GET", "HEAD"])
    func health(method: String) throws {
        let head = RequestHead(method: method, queryString: "", contentType: nil)
        #expect(Triage.head(head, settings: .success(try Fixture.settings())) == .health)
        #expect(Triage.head(head, settings: .success(Settings())) == .health)
        #expect(Triage.head(head, settings: .failure(SettingsError("broken"))) == .health)
        #expect(Triage.head(head, settings: .success(try Fixture.settings(["PIXELHOOK_TOKEN": "t"]))) == .health)
    }

    @Test("other methods are 405 with Allow: GET, HEAD, POST",
          arguments: ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "post", ""])
    func methodNotAllowed(method: String) throws {
        let head = RequestHead(method: method, contentType: "application/json")
        let error = try #require(Triage.head(head, settings: .success(try Fixture.settings())).refusal)
        #expect(error.kind == .methodNotAllowed)
        #expect(error.status == 405)
        let rendered = String(decoding: error.response.cgiBytes(), as: UTF8.self)
        #expect(rendered.hasPrefix("Status: 405 Method Not Allowed\r\n"))
        #expect(rendered.contains("\r\nAllow: GET, HEAD, POST\r\n"))
        #expect(error.response.cgiParts().headers.contains("Allow: GET, HEAD, POST"))
    }

    @Test("405 comes before settings: even broken settings give 405 for PUT")
    func methodBeforeSettings() throws {
        let decision = Triage.head(RequestHead(method: "PUT"), settings: .failure(SettingsError("x")))
        #expect(decision.refusal?.status == 405)
    }

    @Test("only 405 carries an Allow header")
    func allowOnlyOn405() {
        let response = ReceiveError(.unauthorized, "x").response
        #expect(!response.cgiParts().headers.contains { $0.hasPrefix("Allow:") })
    }

    // MARK: head: settings

    @Test("a settings failure is a 500 configuration error; its message (paths, users) is not in the answer")
    func settingsFailure() throws {
        let message = "cannot read config file /home/alice/.config/pixelhook/pixelhook.conf: Permission denied"
        let error = try #require(Triage.head(Self.post(), settings: .failure(SettingsError(message))).refusal)
        #expect(error.kind == .configuration)
        #expect(error.status == 500)
        #expect(error.reason == Triage.settingsInvalid)
        #expect(!error.response.body.contains(UInt8(ascii: "/")))
    }

    @Test("a real Settings.parse failure flows through as a 500")
    func realSettingsFailure() throws {
        let result = Result { () throws(SettingsError) -> Settings in try Settings.parse(["PIXELHOOK_SPOOL": "relative"]) }
        let error = try #require(Triage.head(Self.post(), settings: result).refusal)
        #expect(error.status == 500)
        // The details (here a path) are for the error log, not for any HTTP client.
        #expect(error.reason == Triage.settingsInvalid)
        #expect(!error.reason.contains("relative"))
    }

    @Test("PIXELHOOK_PROJECT_IDS unset is a 500 on every POST, even a valid-looking one")
    func projectIDsUnset() throws {
        let error = try #require(Triage.head(Self.post(contentLength: 10), settings: .success(try Settings.parse([:]))).refusal)
        #expect(error.kind == .configuration)
        #expect(error.status == 500)
        #expect(error.reason.contains("PIXELHOOK_PROJECT_IDS"))
    }

    // MARK: head: step 2, token

    @Test("token set and missing or wrong is 401",
          arguments: ["", "token=", "token=wrong", "token=s3cre", "token=s3cret2", "token=S3CRET",
                      "tok=s3cret", "x=s3cret", "token=s3cret%00"])
    func tokenRefused(query: String) throws {
        let settings = try Fixture.settings(["PIXELHOOK_TOKEN": "s3cret"])
        let error = try #require(Triage.head(Self.post(query: query), settings: .success(settings)).refusal)
        #expect(error.kind == .unauthorized)
        #expect(error.status == 401)
    }

    @Test("the right token proceeds", arguments: ["token=s3cret", "a=1&token=s3cret", "token=s3%63ret"])
    func tokenAccepted(query: String) throws {
        let settings = try Fixture.settings(["PIXELHOOK_TOKEN": "s3cret"])
        #expect(Triage.head(Self.post(query: query), settings: .success(settings)) == .readBody(limit: 65536))
    }

    @Test("a token with reserved characters matches when percent-encoded")
    func tokenPercentEncoded() throws {
        let settings = try Fixture.settings(["PIXELHOOK_TOKEN": "a+b/c=d&e"])
        let right = Self.post(query: "token=a%2Bb%2Fc%3Dd%26e")
        #expect(Triage.head(right, settings: .success(settings)) == .readBody(limit: 65536))
        let plus = Self.post(query: "token=a+b/c=d")
        #expect(Triage.head(plus, settings: .success(settings)).refusal?.status == 401)
    }

    @Test("a base64 token with + pasted as it is matches: + read as itself or as a space",
          arguments: ["token=ab+c/d==", "token=ab%2Bc%2Fd%3D%3D", "token=ab%2Bc/d=="])
    func tokenWithPlusPastedAsIs(query: String) throws {
        let settings = try Fixture.settings(["PIXELHOOK_TOKEN": "ab+c/d=="])
        #expect(Triage.head(Self.post(query: query), settings: .success(settings)) == .readBody(limit: 65536))
    }

    @Test("a token with a space still matches a form-encoded +; a wrong one does not",
          arguments: [("a b", "token=a+b", true), ("a b", "token=a%20b", true), ("a b", "token=a%2Bb", false),
                      ("ab+c", "token=ab+d", false), ("ab+c", "token=ab c", false), ("ab+c", "token=ab", false)])
    func tokenPlusReadings(token: String, query: String, accepted: Bool) throws {
        let settings = try Fixture.settings(["PIXELHOOK_TOKEN": token])
        let decision = Triage.head(Self.post(query: query), settings: .success(settings))
        #expect((decision == .readBody(limit: 65536)) == accepted, "\(decision)")
    }

    @Test("no token set: the query string is not looked at")
    func noTokenNeeded() throws {
        let decision = Triage.head(Self.post(query: "token=anything"), settings: .success(try Fixture.settings()))
        #expect(decision == .readBody(limit: 65536))
    }

    @Test("the token check comes before the media type")
    func tokenBeforeMediaType() throws {
        let settings = try Fixture.settings(["PIXELHOOK_TOKEN": "s3cret"])
        let decision = Triage.head(Self.post(contentType: "text/plain"), settings: .success(settings))
        #expect(decision.refusal?.status == 401)
    }

    // MARK: head: step 3, media type

    @Test("wrong or missing media type is 415",
          arguments: [nil, "text/plain", "application/x-www-form-urlencoded", "text/json", "application/jsonp"] as [String?])
    func mediaType(contentType: String?) throws {
        let error = try #require(Triage.head(Self.post(contentType: contentType), settings: .success(try Fixture.settings())).refusal)
        #expect(error.kind == .unsupportedMediaType)
        #expect(error.status == 415)
        #expect(error.reason.contains("application/json"))
    }

    @Test("application/json with a charset proceeds")
    func mediaTypeCharset() throws {
        let decision = Triage.head(Self.post(contentType: "Application/JSON; charset=utf-8"), settings: .success(try Fixture.settings()))
        #expect(decision == .readBody(limit: 65536))
    }

    // MARK: head: step 4, size

    @Test("Content-Length above the limit is 413", arguments: [101, 102, 1 << 40])
    func tooLarge(length: Int) throws {
        let settings = try Fixture.settings(["PIXELHOOK_MAX_BODY": "100"])
        let error = try #require(Triage.head(Self.post(contentLength: length), settings: .success(settings)).refusal)
        #expect(error.kind == .payloadTooLarge)
        #expect(error.status == 413)
        #expect(error.reason.contains("PIXELHOOK_MAX_BODY"))
        #expect(error == Triage.tooLarge(settings))
    }

    @Test("Content-Length up to the limit, or absent, reads the body with the limit",
          arguments: [nil, 0, 1, 99, 100] as [Int?])
    func withinLimit(length: Int?) throws {
        let settings = try Fixture.settings(["PIXELHOOK_MAX_BODY": "100"])
        #expect(Triage.head(Self.post(contentLength: length), settings: .success(settings)) == .readBody(limit: 100))
    }

    @Test("a negative (invalid) Content-Length is 400", arguments: [-1, -100, Int.min])
    func invalidLength(length: Int) throws {
        let error = try #require(Triage.head(Self.post(contentLength: length), settings: .success(try Fixture.settings())).refusal)
        #expect(error.kind == .invalidPayload)
        #expect(error.status == 400)
    }

    @Test("an unparsable CONTENT_LENGTH from the gateway ends as 400")
    func invalidLengthFromMetaVariables() throws {
        let head = RequestHead(metaVariables: [
            "REQUEST_METHOD": "post", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "lots",
        ])
        let error = try #require(Triage.head(head, settings: .success(try Fixture.settings())).refusal)
        #expect(error.status == 400)
    }

    // MARK: body: step 5, validation

    @Test("an invalid body is refused with the parser's 400 and no envelope")
    func invalidBody() throws {
        let decision = Triage.body(Fixture.bytes("[1]"), settings: try Fixture.settings(), testNonce: "n")
        guard case .refuse(let error, let envelope) = decision else {
            Issue.record("expected a refusal, got \(decision)")
            return
        }
        #expect(error.status == 400)
        #expect(error.reason == "body must be a JSON object")
        #expect(envelope == nil)
    }

    // MARK: body: step 6, project

    @Test("an unknown projectId is 403, with the envelope kept for the log")
    func unknownProject() throws {
        let body = Fixture.payload(event: "build.approved", projectId: "someone-else")
        let decision = Triage.body(body, settings: try Fixture.settings(), testNonce: "n")
        guard case .refuse(let error, let envelope) = decision else {
            Issue.record("expected a refusal, got \(decision)")
            return
        }
        #expect(error.kind == .unknownProject)
        #expect(error.status == 403)
        #expect(error.reason.contains("someone-else"))
        #expect(envelope?.projectId == "someone-else")
    }

    @Test("an unknown projectId is 403 even for an unknown event name")
    func unknownProjectBeforeUnknownEvent() throws {
        let body = Fixture.payload(event: "build.future", projectId: "someone-else")
        #expect(Triage.body(body, settings: try Fixture.settings(), testNonce: "n").refusal?.status == 403)
    }

    @Test("projectIds are matched exactly", arguments: [" \(Fixture.projectId)", Fixture.projectId.uppercased(), "664f1a2b"])
    func projectExact(projectId: String) throws {
        let body = Fixture.payload(event: "build.approved", projectId: projectId)
        #expect(Triage.body(body, settings: try Fixture.settings(), testNonce: "n").refusal?.status == 403)
    }

    @Test("webhook.test with a placeholder project is not refused")
    func testEventExempt() throws {
        let body = Fixture.payload(event: "webhook.test", projectId: "test_project_id", uploadId: "test_upload_id")
        let delivery = try #require(Triage.body(body, settings: try Fixture.settings(), testNonce: "nonce").delivery)
        #expect(delivery.envelope.projectId == "test_project_id")
        #expect(delivery.key.event == "webhook.test~nonce")
        #expect(delivery.body == body)
    }

    @Test("a second listed project is accepted")
    func secondProject() throws {
        let settings = try Settings.parse(["PIXELHOOK_PROJECT_IDS": "first, second"])
        let body = Fixture.payload(event: "build.approved", projectId: "second")
        #expect(Triage.body(body, settings: settings, testNonce: "n").delivery != nil)
    }

    // MARK: body: step 7, event filters

    @Test("an event not in PIXELHOOK_EVENTS is ignored, webhook.test included",
          arguments: ["build.uploaded", "build.rejected", "webhook.test"])
    func filtered(event: String) throws {
        let settings = try Fixture.settings(["PIXELHOOK_EVENTS": "build.approved"])
        let decision = Triage.body(Fixture.payload(event: event), settings: settings, testNonce: "n")
        guard case .ignore(let envelope, let reason) = decision else {
            Issue.record("expected .ignore, got \(decision)")
            return
        }
        #expect(envelope.event == event)
        #expect(reason.contains("PIXELHOOK_EVENTS"))
    }

    @Test("an event listed in PIXELHOOK_EVENTS is delivered")
    func listedEvent() throws {
        let settings = try Fixture.settings(["PIXELHOOK_EVENTS": "build.approved, webhook.test"])
        #expect(Triage.body(Fixture.payload(event: "build.approved"), settings: settings, testNonce: "n").delivery != nil)
        #expect(Triage.body(Fixture.payload(event: "webhook.test"), settings: settings, testNonce: "n").delivery != nil)
    }

    @Test("an unknown event name is ignored", arguments: ["build.future", "BUILD.APPROVED", "", "webhook.Test"])
    func unknownEvent(event: String) throws {
        let decision = Triage.body(Fixture.payload(event: event), settings: try Fixture.settings(), testNonce: "n")
        #expect(decision.ignoredReason == "unknown event")
    }

    // MARK: body: valid

    @Test("every known event is delivered with the right key", arguments: Event.pipeline)
    func deliver(event: String) throws {
        let body = Fixture.payload(event: event)
        let delivery = try #require(Triage.body(body, settings: try Fixture.settings(), testNonce: "n").delivery)
        #expect(delivery.envelope.event == event)
        #expect(delivery.body == body)
        #expect(delivery.key == DeliveryKey(project: Fixture.projectId, build: Fixture.uploadId, event: event))
        #expect(delivery.key.id == "\(Fixture.projectId)/\(Fixture.uploadId)/\(event)")
    }

    @Test("a build event with a null uploadId is keyed by the body digest")
    func deliverNullUpload() throws {
        let body = Fixture.payload(event: "build.uploaded", uploadId: nil)
        let delivery = try #require(Triage.body(body, settings: try Fixture.settings(), testNonce: "n").delivery)
        #expect(delivery.key.build == "~none")
        #expect(delivery.key.event == "build.uploaded~" + DeliveryKey.sha256Hex(body))
    }

    @Test("head then body: the seed approved payload goes all the way to a delivery")
    func endToEnd() throws {
        let body = Fixture.bytes(EnvelopeParserTests.seedBuildApproved)
        let settings = try Fixture.settings(["PIXELHOOK_TOKEN": "t"])
        let head = RequestHead(metaVariables: [
            "REQUEST_METHOD": "POST", "QUERY_STRING": "token=t",
            "CONTENT_TYPE": "application/json; charset=utf-8", "CONTENT_LENGTH": String(body.count),
        ])
        #expect(Triage.head(head, settings: .success(settings)) == .readBody(limit: 65536))
        let delivery = try #require(Triage.body(body, settings: settings, testNonce: "n").delivery)
        #expect(delivery.key.id == "664f1a2b3c4d5e6f7a8b9c0d/665a2b3c4d5e6f7a8b9c0e1f/build.approved")
    }
}
