import Testing
@testable import PixelhookCore

@Suite("HTTPResponse")
struct HTTPResponseTests {
    @Test("CGI form: Status line, JSON content type, exact length, blank line, body")
    func cgiBytes() {
        let response = HTTPResponse(status: 200, json: JSONObject().bool("ok", true))
        let text = String(decoding: response.cgiBytes(), as: UTF8.self)
        #expect(text == "Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}")
    }

    @Test("Content-Length matches the body byte count, non-ASCII included", arguments: [
        "", "x", "héllo 日本 🚀", String(repeating: "a", count: 70_000),
    ].map(Sample.init))
    func contentLength(sample: Sample) {
        let reason = sample.value
        let response = HTTPResponse(status: 400, json: JSONObject().string("reason", reason))
        let (headers, body) = response.cgiParts()
        #expect(headers.contains("Content-Length: \(body.count)"))
        #expect(body == response.body)
        #expect(body == JSONObject().string("reason", reason).bytes)
    }

    @Test("HEAD: the same headers, no body")
    func headOmitsBody() {
        let response = HTTPResponse(status: 200, json: JSONObject().bool("ok", true))
        let full = response.cgiBytes()
        let headOnly = response.cgiBytes(includeBody: false)
        #expect(headOnly.count == full.count - response.body.count)
        #expect(Array(full.prefix(headOnly.count)) == headOnly)
        #expect(headOnly.suffix(4) == Array("\r\n\r\n".utf8)[...])
        let (headers, body) = response.cgiParts(includeBody: false)
        #expect(body.isEmpty)
        #expect(headers.contains("Content-Length: \(response.body.count)"))
    }

    @Test("status lines carry the reason phrase", arguments: [
        (200, "OK"), (400, "Bad Request"), (401, "Unauthorized"), (403, "Forbidden"),
        (405, "Method Not Allowed"), (413, "Payload Too Large"), (415, "Unsupported Media Type"),
        (500, "Internal Server Error"), (503, "Service Unavailable"),
    ])
    func statusLine(status: Int, phrase: String) {
        let response = HTTPResponse(status: status, json: JSONObject())
        #expect(response.cgiParts().headers.first == "Status: \(status) \(phrase)")
        #expect(HTTPResponse.reasonPhrase(status) == phrase)
    }

    @Test("every response has exactly one Content-Type, application/json")
    func oneContentType() {
        let response = ReceiveError(.methodNotAllowed, "no").response
        let contentTypes = response.cgiParts().headers.filter { $0.lowercased().hasPrefix("content-type:") }
        #expect(contentTypes == ["Content-Type: application/json"])
    }

    @Test("extra headers follow, in order")
    func extraHeaders() {
        let response = HTTPResponse(status: 200, json: JSONObject(), extraHeaders: [("X-A", "1"), ("X-B", "2")])
        let headers = response.cgiParts().headers
        #expect(Array(headers.suffix(2)) == ["X-A: 1", "X-B: 2"])
    }

    @Test("equality compares status, body and headers")
    func equality() {
        let a = HTTPResponse(status: 200, json: JSONObject().bool("ok", true))
        #expect(a == HTTPResponse(status: 200, json: JSONObject().bool("ok", true)))
        #expect(a != HTTPResponse(status: 503, json: JSONObject().bool("ok", true)))
        #expect(a != HTTPResponse(status: 200, json: JSONObject().bool("ok", false)))
        #expect(a != HTTPResponse(status: 200, json: JSONObject().bool("ok", true), extraHeaders: [("X", "y")]))
    }

    @Test("bodyText is the body as text")
    func bodyText() {
        #expect(HTTPResponse(status: 200, json: JSONObject().string("e", "é")).bodyText == #"{"e":"é"}"#)
    }
}
