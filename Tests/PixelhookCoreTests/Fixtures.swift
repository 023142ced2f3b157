import PixelhookTestSupport
import Testing
@testable import PixelhookCore

/// Shared payloads and helpers for the core tests.
///
/// Bodies are built here as raw JSON text (not through `JSONObject`) so that a bug in the code
/// under test cannot also hide in the fixture.
enum Fixture {
    static let projectId = "664f1a2b3c4d5e6f7a8b9c0d"
    static let uploadId = "665a2b3c4d5e6f7a8b9c0e1f"
    static let fileUrl = "https://cdn.streampixel.io/builds/my-build.zip"
    static let timestamp = "2026-03-29T14:30:00.000Z"

    /// The seven envelope fields in the sender's documented order, as raw JSON fragments.
    static let approvedFields: [(name: String, json: String)] = [
        ("event", quoted("build.approved")),
        ("projectId", quoted(projectId)),
        ("uploadId", quoted(uploadId)),
        ("fileUrl", quoted(fileUrl)),
        ("status", quoted("Approved")),
        ("objection", "null"),
        ("timestamp", quoted(timestamp)),
    ]

    /// A JSON string literal for ASCII test values (only `"` and `\` need escaping there).
    static func quoted(_ text: String) -> String { SenderPayload.quoted(text) }

    /// `{"name":json,...}` in the given order.
    static func object(_ fields: [(name: String, json: String)]) -> [UInt8] {
        let members = fields.map { "\(quoted($0.name)):\($0.json)" }
        return Array(("{" + members.joined(separator: ",") + "}").utf8)
    }

    /// The approved payload with one field replaced by `json`, or removed when `json` is nil.
    static func approved(replacing name: String, with json: String?) -> [UInt8] {
        var fields = approvedFields.filter { $0.name != name }
        if let json, let index = approvedFields.firstIndex(where: { $0.name == name }) {
            fields.insert((name, json), at: index)
        }
        return object(fields)
    }

    /// The approved payload with extra members appended.
    static func approved(adding extra: [(name: String, json: String)]) -> [UInt8] {
        object(approvedFields + extra)
    }

    /// A payload with the given values; `nil` optional fields are written as JSON `null`.
    static func payload(
        event: String, projectId: String = projectId, uploadId: String? = uploadId,
        fileUrl: String? = nil, status: String = "pending", objection: String? = nil,
        timestamp: String = timestamp
    ) -> [UInt8] {
        Array(SenderPayload.json(event: event, projectId: projectId, uploadId: uploadId, fileUrl: fileUrl, status: status,
                                 objection: objection, timestamp: timestamp).utf8)
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The error `EnvelopeParser.parse` throws, or nil when it accepts the body.
    static func parseError(_ body: [UInt8]) -> ReceiveError? {
        do {
            _ = try EnvelopeParser.parse(body)
            return nil
        } catch {
            return error
        }
    }

    /// The error `Settings.parse` throws, or nil when it accepts the variables.
    static func settingsError(_ variables: [String: String]) -> SettingsError? {
        do {
            _ = try Settings.parse(variables)
            return nil
        } catch {
            return error
        }
    }

    /// The error `ConfigFile.parse` throws, or nil when it accepts the text.
    static func configError(_ text: String) -> SettingsError? {
        do {
            _ = try ConfigFile.parse(text)
            return nil
        } catch {
            return error
        }
    }

    /// Settings acting on `Fixture.projectId`, plus any extra variables.
    static func settings(_ extra: [String: String] = [:]) throws -> Settings {
        var variables = [Settings.Key.projectIDs: projectId]
        variables.merge(extra) { _, new in new }
        return try Settings.parse(variables)
    }
}

extension Triage.HeadDecision {
    var refusal: ReceiveError? {
        if case .refuse(let error) = self { return error }
        return nil
    }
}

extension Triage.BodyDecision {
    var refusal: ReceiveError? {
        if case .refuse(let error, _) = self { return error }
        return nil
    }

    var ignoredReason: String? {
        if case .ignore(_, let reason) = self { return reason }
        return nil
    }

    var delivery: Delivery? {
        if case .deliver(let delivery) = self { return delivery }
        return nil
    }
}

extension HTTPResponse {
    /// The CGI header block split into lines, and what follows the blank line.
    func cgiParts(includeBody: Bool = true) -> (headers: [String], body: [UInt8]) {
        let bytes = cgiBytes(includeBody: includeBody)
        let separator = Array("\r\n\r\n".utf8)
        guard let end = (0...(bytes.count - separator.count)).first(where: {
            Array(bytes[$0..<($0 + separator.count)]) == separator
        }) else { return ([], []) }
        let headText = String(decoding: bytes[..<end], as: UTF8.self)
        let headers = headText.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        return (headers, Array(bytes[(end + separator.count)...]))
    }
}

/// A test argument whose value may be long or full of control characters, shown abbreviated.
struct Sample: Sendable, CustomTestStringConvertible {
    let value: String
    init(_ value: String) { self.value = value }
    var testDescription: String {
        let shown = value.count > 24 ? String(value.prefix(12)) + "…(\(value.utf8.count) bytes)" : value
        return shown.debugDescription
    }
}
