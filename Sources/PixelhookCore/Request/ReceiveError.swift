/// A request pixelhook refuses, with the HTTP status and the JSON reason the sender gets.
///
/// `Kind` is a closed set of stable machine-readable codes; `reason` is the sentence a person
/// reads in the response body and the request log.
public struct ReceiveError: Error, Sendable, Equatable {
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        public let code: String
        public let status: Int
        public var description: String { code }

        public static let methodNotAllowed = Kind(code: "method_not_allowed", status: 405)
        public static let unauthorized = Kind(code: "unauthorized", status: 401)
        /// A read view (`?view=`) that is not configured or does not exist.
        public static let notFound = Kind(code: "not_found", status: 404)
        public static let unsupportedMediaType = Kind(code: "unsupported_media_type", status: 415)
        public static let payloadTooLarge = Kind(code: "payload_too_large", status: 413)
        public static let invalidPayload = Kind(code: "invalid_payload", status: 400)
        public static let unknownProject = Kind(code: "unknown_project", status: 403)
        public static let configuration = Kind(code: "configuration", status: 500)
        public static let storage = Kind(code: "storage", status: 503)
    }

    public let kind: Kind
    public let reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var status: Int { kind.status }

    /// The response the sender sees: `{"error":CODE,"reason":TEXT}`.
    public var response: HTTPResponse {
        var headers: [(String, String)] = []
        if kind == .methodNotAllowed { headers.append(("Allow", "GET, HEAD, POST")) }
        return HTTPResponse(
            status: status,
            json: JSONObject().string("error", kind.code).string("reason", reason),
            extraHeaders: headers
        )
    }
}
