/// Turns a raw request body into an `Envelope`, or a 400 whose reason names the field at fault.
///
/// The JSON itself is read by `JSONScanner` (strict, whole-document, bounded depth); this type
/// only judges the seven envelope fields.
public enum EnvelopeParser {
    public enum Field: String, CaseIterable, Sendable {
        case event, projectId, uploadId, fileUrl, status, objection, timestamp
    }

    public static func parse(_ body: [UInt8]) throws(ReceiveError) -> Envelope {
        guard String(validating: body, as: UTF8.self) != nil else {
            throw invalid("body is not valid UTF-8")
        }
        let parsed: [String: JSONScanner.Value]?
        do {
            parsed = try JSONScanner.topLevelMembers(body)
        } catch {
            throw invalid("body is not valid JSON: \(error.description)")
        }
        guard let members = parsed else { throw invalid("body must be a JSON object") }

        // Fields are judged in the order the sender's documentation lists them.
        let envelope = Envelope(
            event: try required(.event, members),
            projectId: try required(.projectId, members),
            uploadId: try optional(.uploadId, members),
            fileUrl: try optional(.fileUrl, members),
            status: try required(.status, members),
            objection: try optional(.objection, members),
            timestamp: try required(.timestamp, members)
        )
        guard Timestamp.isISO8601(envelope.timestamp) else {
            throw invalid("field \"timestamp\" is not an ISO 8601 date-time: \(abbreviated(envelope.timestamp))")
        }
        return envelope
    }

    static func required(_ field: Field, _ members: [String: JSONScanner.Value]) throws(ReceiveError) -> String {
        switch members[field.rawValue] {
        case .string(let text)?: return text
        case nil: throw invalid("field \"\(field.rawValue)\" is missing")
        case .null?: throw invalid("field \"\(field.rawValue)\" must not be null")
        case .other(let kind)?: throw invalid("field \"\(field.rawValue)\" must be a string, not \(kind)")
        }
    }

    static func optional(_ field: Field, _ members: [String: JSONScanner.Value]) throws(ReceiveError) -> String? {
        switch members[field.rawValue] {
        case .string(let text)?: return text
        case nil, .null?: return nil
        case .other(let kind)?: throw invalid("field \"\(field.rawValue)\" must be a string or null, not \(kind)")
        }
    }

    static func invalid(_ reason: String) -> ReceiveError { ReceiveError(.invalidPayload, reason) }

    /// Reasons echo sender data; keep a hostile 10 kB value from filling the log line.
    static func abbreviated(_ text: String) -> String { JSONObject.quote(cut(text)) }

    /// The one rule for sender text that answers and the request log echo: at most
    /// `echoedCharacters` characters, then `…`.
    public static func cut(_ text: String, to limit: Int = echoedCharacters) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }

    public static let echoedCharacters = 64
}
