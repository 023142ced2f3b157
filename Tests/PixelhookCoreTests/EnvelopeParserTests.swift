import PixelhookTestSupport
import Testing
@testable import PixelhookCore

@Suite("EnvelopeParser")
struct EnvelopeParserTests {
    // MARK: Required fields

    enum Flaw: String, CaseIterable, CustomTestStringConvertible {
        case missing, null, number, bool, object, array

        /// The JSON written for the field; nil removes it.
        var json: String? {
            switch self {
            case .missing: nil
            case .null: "null"
            case .number: "42"
            case .bool: "true"
            case .object: #"{"a":"b"}"#
            case .array: #"["build.approved"]"#
            }
        }

        var testDescription: String { rawValue }
    }

    @Test("a required field missing, null or not a string is a 400 naming the field",
          arguments: ["event", "projectId", "status", "timestamp"], Flaw.allCases)
    func requiredFieldFlaw(field: String, flaw: Flaw) throws {
        let error = try #require(Fixture.parseError(Fixture.approved(replacing: field, with: flaw.json)))
        #expect(error.kind == .invalidPayload)
        #expect(error.status == 400)
        #expect(error.reason.contains("\"\(field)\""))
        switch flaw {
        case .missing: #expect(error.reason == "field \"\(field)\" is missing")
        case .null: #expect(error.reason == "field \"\(field)\" must not be null")
        default: #expect(error.reason.hasPrefix("field \"\(field)\" must be a string, not "))
        }
    }

    // MARK: Optional fields

    @Test("an optional field absent or null parses as nil",
          arguments: ["uploadId", "fileUrl", "objection"], [nil, "null"] as [String?])
    func optionalFieldAbsentOrNull(field: String, json: String?) throws {
        let envelope = try EnvelopeParser.parse(Fixture.approved(replacing: field, with: json))
        let value: String? = switch field {
        case "uploadId": envelope.uploadId
        case "fileUrl": envelope.fileUrl
        default: envelope.objection
        }
        #expect(value == nil)
        // The other fields are untouched.
        #expect(envelope.event == "build.approved")
        #expect(envelope.projectId == Fixture.projectId)
    }

    @Test("an optional field of the wrong type is a 400 naming the field",
          arguments: ["uploadId", "fileUrl", "objection"], [Flaw.number, .bool, .object, .array])
    func optionalFieldWrongType(field: String, flaw: Flaw) throws {
        let error = try #require(Fixture.parseError(Fixture.approved(replacing: field, with: flaw.json)))
        #expect(error.kind == .invalidPayload)
        #expect(error.status == 400)
        #expect(error.reason.hasPrefix("field \"\(field)\" must be a string or null, not "))
    }

    @Test("an optional field that is a string is kept as is")
    func optionalFieldsPresent() throws {
        let envelope = try EnvelopeParser.parse(Fixture.approved(replacing: "objection", with: #""too big""#))
        #expect(envelope.uploadId == Fixture.uploadId)
        #expect(envelope.fileUrl == Fixture.fileUrl)
        #expect(envelope.objection == "too big")
    }

    @Test("the first faulty field in documented order is the one reported")
    func firstFaultReported() throws {
        let body = Fixture.object([("status", "1"), ("projectId", "null")])
        let error = try #require(Fixture.parseError(body))
        #expect(error.reason == "field \"event\" is missing")
    }

    // MARK: Extra fields

    @Test("unknown extra fields of any type are ignored")
    func unknownFieldsIgnored() throws {
        let plain = try EnvelopeParser.parse(Fixture.object(Fixture.approvedFields))
        let extras: [(name: String, json: String)] = [
            ("extra", "1"), ("flag", "false"), ("nothing", "null"), ("list", "[1,[2,[3]],{}]"),
            ("nested", #"{"a":{"b":{"c":[{"d":null}]}}}"#), ("note", #""hi""#),
        ]
        let withExtras = try EnvelopeParser.parse(Fixture.approved(adding: extras))
        #expect(withExtras == plain)
    }

    @Test("field names are case-sensitive: EVENT does not stand in for event")
    func fieldNamesCaseSensitive() throws {
        var fields = Fixture.approvedFields.filter { $0.name != "event" }
        fields.append(("EVENT", Fixture.quoted("build.approved")))
        let error = try #require(Fixture.parseError(Fixture.object(fields)))
        #expect(error.reason == "field \"event\" is missing")
    }

    // MARK: Not an envelope at all

    @Test("a body that is JSON but not an object is refused as such",
          arguments: ["[]", #"[{"event":"build.approved"}]"#, #""build.approved""#, "42", "true", "null"])
    func notAnObject(json: String) throws {
        let error = try #require(Fixture.parseError(Fixture.bytes(json)))
        #expect(error.kind == .invalidPayload)
        #expect(error.status == 400)
        #expect(error.reason == "body must be a JSON object")
    }

    @Test("a JSON syntax error is a 400",
          arguments: ["", " ", "{", #"{"event":"build.approved""#, #"{"event":}"#, "{,}",
                      #"{"event":'x'}"#, "{} {}", "nul", "{event:1}", "{,}", #"{"a":1,,}"#,
                      "{\"a\":1 // c\n}", "{\"a\":1}\u{0}"])
    func syntaxError(text: String) throws {
        let error = try #require(Fixture.parseError(Fixture.bytes(text)))
        #expect(error.kind == .invalidPayload)
        #expect(error.status == 400)
        #expect(error.reason.hasPrefix("body is not valid JSON: "))
    }

    /// RFC 8259 forbids these; strict parsers in handlers (Python's `json`, jq) reject them, so a
    /// body accepted here would be stored and then fail in the handler that reads it.
    static let envelopeMembers =
        #""event":"build.approved","projectId":"p","status":"Approved","timestamp":"2026-03-29T14:30:00Z""#

    static let notRFC8259: [(name: String, body: String)] = [
        ("trailing comma after the last member", "{\(envelopeMembers),}"),
        ("trailing comma in an array in an unknown field", #"{\#(envelopeMembers),"x":[1,2,]}"#),
        ("trailing comma in an object in an unknown field", #"{\#(envelopeMembers),"x":{"y":1,}}"#),
        ("raw tab inside a string in an unknown field", "{\(envelopeMembers),\"x\":\"a\tb\"}"),
        ("raw newline inside an envelope string", "{\(envelopeMembers),\"objection\":\"a\nb\"}"),
        ("raw tab inside an envelope string",
         "{\"event\":\"build.approved\",\"projectId\":\"p\",\"status\":\"Appr\toved\",\"timestamp\":\"2026-03-29T14:30:00Z\"}"),
        ("leading zero in a number in an unknown field", #"{\#(envelopeMembers),"x":01}"#),
        ("number without digits after the point", #"{\#(envelopeMembers),"x":1.}"#),
        ("bare minus sign", #"{\#(envelopeMembers),"x":-}"#),
        ("NaN", #"{\#(envelopeMembers),"x":NaN}"#),
        ("lone surrogate escape in an unknown field", #"{\#(envelopeMembers),"x":"\ud800"}"#),
        ("bad escape in an unknown field", #"{\#(envelopeMembers),"x":"\q"}"#),
        ("single-quoted string in an unknown field", #"{\#(envelopeMembers),"x":'y'}"#),
    ]

    @Test("bodies that are not RFC 8259 JSON are a 400, even when the envelope inside is fine",
          arguments: 0..<notRFC8259.count)
    func notRFC8259JSON(index: Int) throws {
        let sample = Self.notRFC8259[index]
        let error = Fixture.parseError(Fixture.bytes(sample.body))
        #expect(error?.kind == .invalidPayload, "\(sample.name): accepted as \(String(describing: try? EnvelopeParser.parse(Fixture.bytes(sample.body))))")
        #expect(error?.reason.hasPrefix("body is not valid JSON: ") == true, "\(sample.name)")
    }

    @Test("an envelope field given twice is a 400: the handler's parser may pick the other value",
          arguments: ["event", "projectId", "uploadId", "status", "timestamp"])
    func duplicateField(field: String) throws {
        let value = field == "timestamp" ? Fixture.quoted("2026-03-29T15:00:00Z") : Fixture.quoted("other")
        let body = Fixture.approved(adding: [(field, value)])
        let error = Fixture.parseError(body)
        #expect(error?.kind == .invalidPayload, "duplicate \(field) accepted")
        #expect(error?.reason.contains("\"\(field)\"") == true)
    }

    @Test("invalid UTF-8 is a 400 before any JSON parsing",
          arguments: [[0xFF], [0xC3], [0xC0, 0xAF], [0xED, 0xA0, 0x80]] as [[UInt8]])
    func invalidUTF8(bad: [UInt8]) throws {
        // Well-formed JSON around the bad bytes, inside a string value.
        var body = Array(#"{"note":""#.utf8)
        body += bad
        body += Array(#""}"#.utf8)
        let error = try #require(Fixture.parseError(body))
        #expect(error.kind == .invalidPayload)
        #expect(error.status == 400)
        #expect(error.reason == "body is not valid UTF-8")
    }

    @Test("invalid UTF-8 inside an otherwise valid envelope is refused")
    func invalidUTF8InsideEnvelope() throws {
        var body = Fixture.approved(replacing: "objection", with: "\"x\"")
        let index = try #require(body.firstIndex(of: UInt8(ascii: "x")))
        body[index] = 0xFE
        let error = try #require(Fixture.parseError(body))
        #expect(error.reason == "body is not valid UTF-8")
    }

    // MARK: Hostile nesting

    @Test("100_000 opening brackets are a clean 400, not a crash")
    func deepArrayOpenOnly() throws {
        let body = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        let error = try #require(Fixture.parseError(body))
        #expect(error.kind == .invalidPayload)
        #expect(error.status == 400)
    }

    @Test("a balanced 100_000-deep array is a clean 400, not a crash")
    func deepArrayBalanced() throws {
        let body = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
            + [UInt8](repeating: UInt8(ascii: "]"), count: 100_000)
        let error = try #require(Fixture.parseError(body))
        #expect(error.kind == .invalidPayload)
        #expect(error.status == 400)
    }

    @Test("deeply nested objects inside an unknown field are a clean 400, not a crash",
          arguments: [10_000, 100_000])
    func deepObjectInUnknownField(depth: Int) throws {
        let nested = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        let body = Fixture.approved(adding: [("extra", nested)])
        let error = try #require(Fixture.parseError(body))
        #expect(error.kind == .invalidPayload)
        #expect(error.status == 400)
    }

    @Test("deeply nested arrays inside a required field are a clean 400, not a crash")
    func deepArrayInRequiredField() throws {
        let nested = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = try #require(Fixture.parseError(Fixture.approved(replacing: "event", with: nested)))
        #expect(error.status == 400)
    }

    // MARK: Timestamp

    @Test("a timestamp that is not ISO 8601 is a 400 naming the field and quoting the value",
          arguments: ["yesterday", "2026-03-29", "2026-03-29T14:30:00", "2026-13-01T00:00:00Z", ""])
    func badTimestamp(value: String) throws {
        let error = try #require(Fixture.parseError(Fixture.approved(replacing: "timestamp", with: Fixture.quoted(value))))
        #expect(error.kind == .invalidPayload)
        #expect(error.status == 400)
        #expect(error.reason.hasPrefix("field \"timestamp\" is not an ISO 8601 date-time"))
        #expect(error.reason.contains("\"\(value)\""))
    }

    @Test("a long hostile timestamp is abbreviated in the reason")
    func longTimestampAbbreviated() throws {
        let value = String(repeating: "x", count: 10_000)
        let error = try #require(Fixture.parseError(Fixture.approved(replacing: "timestamp", with: Fixture.quoted(value))))
        #expect(error.reason.hasPrefix("field \"timestamp\""))
        #expect(error.reason.utf8.count < 200)
        #expect(error.reason.contains("…"))
    }

    // MARK: The sender's own examples

    /// As shipped in `examples/events/`.
    static let seedBuildApproved = Seeds.text("build.approved")
    static let seedBuildRejected = Seeds.text("build.rejected")
    static let seedBuildUploaded = Seeds.text("build.uploaded")
    static let seedWebhookTest = Seeds.text("webhook.test")

    static let seeds: [(name: String, json: String, expected: Envelope)] = [
        ("build.approved", seedBuildApproved, Envelope(
            event: "build.approved", projectId: "664f1a2b3c4d5e6f7a8b9c0d",
            uploadId: "665a2b3c4d5e6f7a8b9c0e1f",
            fileUrl: "https://cdn.streampixel.io/builds/my-build.zip",
            status: "Approved", objection: nil, timestamp: "2026-03-29T14:30:00.000Z")),
        ("build.rejected", seedBuildRejected, Envelope(
            event: "build.rejected", projectId: "664f1a2b3c4d5e6f7a8b9c0d",
            uploadId: "665a2b3c4d5e6f7a8b9c0e1f",
            fileUrl: "https://cdn.streampixel.io/builds/my-build.zip",
            status: "Reject", objection: "Build contains unsupported file formats.",
            timestamp: "2026-03-29T15:00:00.000Z")),
        ("build.uploaded", seedBuildUploaded, Envelope(
            event: "build.uploaded", projectId: "664f1a2b3c4d5e6f7a8b9c0d",
            uploadId: "665a2b3c4d5e6f7a8b9c0e1f", fileUrl: nil,
            status: "pending", objection: nil, timestamp: "2026-03-29T13:00:00.000Z")),
        ("webhook.test", seedWebhookTest, Envelope(
            event: "webhook.test", projectId: "test_project_id", uploadId: "test_upload_id",
            fileUrl: "https://example.com/test-build.zip",
            status: "test", objection: nil, timestamp: "2026-03-29T14:30:00.000Z")),
    ]

    @Test("the sender's documented examples parse field by field", arguments: 0..<4)
    func seedExample(index: Int) throws {
        let seed = Self.seeds[index]
        let envelope = try EnvelopeParser.parse(Fixture.bytes(seed.json))
        #expect(envelope.event == seed.expected.event, "\(seed.name)")
        #expect(envelope.projectId == seed.expected.projectId, "\(seed.name)")
        #expect(envelope.uploadId == seed.expected.uploadId, "\(seed.name)")
        #expect(envelope.fileUrl == seed.expected.fileUrl, "\(seed.name)")
        #expect(envelope.status == seed.expected.status, "\(seed.name)")
        #expect(envelope.objection == seed.expected.objection, "\(seed.name)")
        #expect(envelope.timestamp == seed.expected.timestamp, "\(seed.name)")
        #expect(envelope == seed.expected)
    }

    @Test("JSON escapes in string values are decoded")
    func escapesDecoded() throws {
        let body = Fixture.approved(replacing: "objection", with: #""line1\nline2 \"q\" \u00e9 \\""#)
        let envelope = try EnvelopeParser.parse(body)
        #expect(envelope.objection == "line1\nline2 \"q\" é \\")
    }

    @Test("non-ASCII UTF-8 in string values is kept")
    func nonASCIIKept() throws {
        let body = Fixture.approved(replacing: "objection", with: "\"Fichier refusé 🚫\"")
        #expect(try EnvelopeParser.parse(body).objection == "Fichier refusé 🚫")
    }
}
