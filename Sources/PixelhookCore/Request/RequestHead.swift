/// The parts of an HTTP request the core decides on before reading the body, gateway-neutral.
public struct RequestHead: Sendable, Equatable {
    public var method: String
    public var queryString: String
    public var contentType: String?
    /// `nil` when the header is absent; a malformed value is `-1`, which triage refuses.
    public var contentLength: Int?
    public var remoteAddress: String
    /// The `Authorization` header (`HTTP_AUTHORIZATION`): how Prometheus sends the read token.
    public var authorization: String?

    public init(method: String, queryString: String = "", contentType: String? = nil,
                contentLength: Int? = nil, remoteAddress: String = "", authorization: String? = nil) {
        self.method = method
        self.queryString = queryString
        self.contentType = contentType
        self.contentLength = contentLength
        self.remoteAddress = remoteAddress
        self.authorization = authorization
    }

    /// The meta-variables `init(metaVariables:)` reads; gateways may drop all others.
    public static let metaVariableNames = ["REQUEST_METHOD", "QUERY_STRING", "CONTENT_TYPE", "REMOTE_ADDR", "CONTENT_LENGTH", "HTTP_AUTHORIZATION"]

    /// Reads RFC 3875 meta-variables: the CGI environment, or FastCGI parameters.
    public init(metaVariables variables: [String: String]) {
        method = (variables["REQUEST_METHOD"] ?? "GET").uppercased()
        queryString = variables["QUERY_STRING"] ?? ""
        contentType = variables["CONTENT_TYPE"].flatMap { $0.isEmpty ? nil : $0 }
        remoteAddress = variables["REMOTE_ADDR"] ?? ""
        authorization = variables["HTTP_AUTHORIZATION"]
        if let length = variables["CONTENT_LENGTH"], !length.isEmpty {
            contentLength = Int(length).flatMap { $0 >= 0 ? $0 : nil } ?? -1
        } else {
            contentLength = nil
        }
    }

    /// `application/json`, case-insensitive, parameters such as `charset` allowed.
    public var hasJSONMediaType: Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return String(mediaType).trimmingWhitespace().lowercased() == "application/json"
    }

    /// The credentials of `Authorization: Bearer CREDENTIALS` (scheme case-insensitive), or nil.
    public var bearerToken: String? {
        guard let authorization else { return nil }
        let parts = authorization.trimmingWhitespace().split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingWhitespace()
    }

    /// The percent-decoded value of `name` in the query string, if present.
    public func queryParameter(_ name: String) -> String? {
        for pair in queryString.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = PercentDecoding.decode(parts[0]), key == name else { continue }
            return parts.count > 1 ? PercentDecoding.decode(parts[1]) ?? "" : ""
        }
        return nil
    }

    /// Every reading of `name`'s value an operator may have meant, or nil if it is absent: the
    /// form-decoded one (`+` is a space) and, when the raw value holds a `+`, the one that
    /// keeps it (`openssl rand -base64` tokens are pasted as they are). `%2B` is `+` in both.
    public func queryParameterReadings(_ name: String) -> [String]? {
        for pair in queryString.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = PercentDecoding.decode(parts[0]), key == name else { continue }
            guard parts.count > 1 else { return [""] }
            let formDecoded = PercentDecoding.decode(parts[1]) ?? ""
            guard parts[1].utf8.contains(UInt8(ascii: "+")),
                  let literal = PercentDecoding.decode(parts[1], plusIsSpace: false) else { return [formDecoded] }
            return [formDecoded, literal]
        }
        return nil
    }
}

/// `application/x-www-form-urlencoded` decoding of one query-string component.
enum PercentDecoding {
    /// `plusIsSpace: false` keeps `+` as it is (RFC 3986 percent-decoding only).
    static func decode(_ text: Substring, plusIsSpace: Bool = true) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+") where plusIsSpace: bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue)
                else { return nil }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
