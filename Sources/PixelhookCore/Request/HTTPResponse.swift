/// What the gateway sends back: a JSON body with `Content-Type: application/json`, except
/// for the read views (`?view=metrics` is Prometheus text, `?view=builds` HTML).
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var body: [UInt8]
    public var contentType: String
    public var extraHeaders: [(String, String)]

    public static let jsonContentType = "application/json"

    public init(status: Int, json: JSONObject, extraHeaders: [(String, String)] = []) {
        self.status = status
        self.body = json.bytes
        self.contentType = HTTPResponse.jsonContentType
        self.extraHeaders = extraHeaders
    }

    /// A body that is not JSON: a read view's text or page.
    public init(status: Int, body: [UInt8], contentType: String, extraHeaders: [(String, String)] = []) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.extraHeaders = extraHeaders
    }

    public static func == (lhs: HTTPResponse, rhs: HTTPResponse) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body && lhs.contentType == rhs.contentType
            && lhs.extraHeaders.elementsEqual(rhs.extraHeaders, by: ==)
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The response in CGI form (RFC 3875 §6: a `Status:` header), which is also what a
    /// FastCGI responder writes to its stdout stream. HEAD gets the headers only.
    public func cgiBytes(includeBody: Bool = true) -> [UInt8] {
        var head = "Status: \(status) \(HTTPResponse.reasonPhrase(status))\r\n"
        head += "Content-Type: \(contentType)\r\n"
        head += "Content-Length: \(body.count)\r\n"
        for (name, value) in extraHeaders { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if includeBody { bytes += body }
        return bytes
    }

    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 403: "Forbidden"
        case 405: "Method Not Allowed"
        case 413: "Payload Too Large"
        case 415: "Unsupported Media Type"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}
