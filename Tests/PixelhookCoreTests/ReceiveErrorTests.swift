import Testing
@testable import PixelhookCore

@Suite("ReceiveError and Reply")
struct ReceiveErrorTests {
    @Test("each kind has its stable code and status", arguments: [
        (ReceiveError.Kind.methodNotAllowed, "method_not_allowed", 405),
        (.unauthorized, "unauthorized", 401),
        (.unsupportedMediaType, "unsupported_media_type", 415),
        (.payloadTooLarge, "payload_too_large", 413),
        (.invalidPayload, "invalid_payload", 400),
        (.unknownProject, "unknown_project", 403),
        (.configuration, "configuration", 500),
        (.storage, "storage", 503),
    ])
    func kinds(kind: ReceiveError.Kind, code: String, status: Int) {
        let error = ReceiveError(kind, "why")
        #expect(kind.code == code)
        #expect(kind.description == code)
        #expect(error.status == status)
        #expect(error.response.status == status)
        #expect(error.response.bodyText == "{\"error\":\"\(code)\",\"reason\":\"why\"}")
    }

    @Test("the reason is escaped in the response body")
    func reasonEscaped() {
        let response = ReceiveError(.invalidPayload, "field \"event\" is missing\n").response
        #expect(response.bodyText == #"{"error":"invalid_payload","reason":"field \"event\" is missing\n"}"#)
    }

    @Test("accepted reply")
    func accepted() {
        let reply = Reply.accepted(event: "build.approved", duplicate: false)
        #expect(reply.status == 200)
        #expect(reply.bodyText == #"{"received":true,"event":"build.approved","duplicate":false}"#)
        #expect(Reply.accepted(event: "build.approved", duplicate: true).bodyText.contains(#""duplicate":true"#))
    }

    @Test("ignored reply")
    func ignored() {
        let reply = Reply.ignored(event: "build.future", reason: "unknown event")
        #expect(reply.status == 200)
        #expect(reply.bodyText ==
            #"{"received":true,"event":"build.future","duplicate":false,"ignored":true,"reason":"unknown event"}"#)
    }

    @Test("health reply")
    func health() {
        #expect(Reply.health(problem: nil).status == 200)
        #expect(Reply.health(problem: nil).bodyText == #"{"ok":true}"#)
        let sick = Reply.health(problem: "PIXELHOOK_PROJECT_IDS is not set")
        #expect(sick.status == 503)
        #expect(sick.bodyText == #"{"ok":false,"error":"PIXELHOOK_PROJECT_IDS is not set"}"#)
    }
}
