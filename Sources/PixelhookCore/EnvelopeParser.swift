import FoundationEssentials

/// Turns a raw request body into an `Envelope`, or a 400 whose reason names the field at fault.
///
/// JSON syntax is Foundation's `JSONDecoder` (it also bounds nesting depth, so a 100k-deep body
/// is a clean error, not a stack overflow); this type only judges the seven envelope fields.
public enum EnvelopeParser {
    public static func parse(_ body: [UInt8]) throws(ReceiveError) -> Envelope {
        guard String(validating: body, as: UTF8.self) != nil else {
            throw invalid("body is not valid UTF-8")
        }
        let fields: RawFields
        do {
            fields = try JSONDecoder().decode(RawFields.self, from: Data(body))
        } catch let error as DecodingError {
            if case .typeMismatch = error { throw invalid("body must be a JSON object") }
            throw invalid("body is not valid JSON")
        } catch {
            throw invalid("body is not valid JSON")
        }

        // Fields are judged in the order the sender's documentation lists them.
        let envelope = Envelope(
            event: try fields.required(.event),
            projectId: try fields.required(.projectId),
            uploadId: try fields.optional(.uploadId),
            fileUrl: try fields.optional(.fileUrl),
            status: try fields.required(.status),
            objection: try fields.optional(.objection),
            timestamp: try fields.required(.timestamp)
        )
        guard Timestamp.isISO8601(envelope.timestamp) else {
            throw invalid("field \"timestamp\" is not an ISO 8601 date-time: \(abbreviated(envelope.timestamp))")
        }
        return envelope
    }

    static func invalid(_ reason: String) -> ReceiveError { ReceiveError(.invalidPayload, reason) }

    /// Reasons echo sender data; keep a hostile 10 kB value from filling the log line.
    static func abbreviated(_ text: String) -> String {
        text.count <= 64 ? JSONObject.quote(text) : JSONObject.quote(String(text.prefix(64)) + "…")
    }
}

/// The envelope fields as they appeared in the JSON object, before any judgement.
struct RawFields: Decodable {
    enum Field: String, CodingKey, CaseIterable {
        case event, projectId, uploadId, fileUrl, status, objection, timestamp
    }

    enum Value {
        case absent, null, string(String), wrongType
    }

    private var values: [Field: Value] = [:]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Field.self)
        for field in Field.allCases {
            if !container.contains(field) {
                values[field] = .absent
            } else if try container.decodeNil(forKey: field) {
                values[field] = .null
            } else if let text = try? container.decode(String.self, forKey: field) {
                values[field] = .string(text)
            } else {
                values[field] = .wrongType
            }
        }
    }

    func required(_ field: Field) throws(ReceiveError) -> String {
        switch values[field] ?? .absent {
        case .string(let text): return text
        case .absent: throw EnvelopeParser.invalid("field \"\(field.rawValue)\" is missing")
        case .null: throw EnvelopeParser.invalid("field \"\(field.rawValue)\" must not be null")
        case .wrongType: throw EnvelopeParser.invalid("field \"\(field.rawValue)\" must be a string")
        }
    }

    func optional(_ field: Field) throws(ReceiveError) -> String? {
        switch values[field] ?? .absent {
        case .string(let text): return text
        case .absent, .null: return nil
        case .wrongType:
            throw EnvelopeParser.invalid("field \"\(field.rawValue)\" must be a string or null")
        }
    }
}
