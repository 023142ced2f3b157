import Foundation
import PixelhookTestSupport

/// Request bodies: the sender's documented examples, verbatim, and variations of them.
enum Payloads {
    /// The four example payloads of `seeds/streampixel-webhooks.md`, byte for byte as shipped
    /// in `examples/events/` (pretty-printed), by event.
    static let seeds: [(event: String, body: String)] = Seeds.all

    static func seed(_ event: String) -> Data { Seeds.payload(event) }

    /// A compact, valid payload for the configured project.
    static func event(_ event: String, uploadId: String?, projectId: String = WebServerFixture.projectID,
                      status: String = "pending", objection: String? = nil, padding: Int = 0) -> Data {
        func quoted(_ text: String?) -> String { text.map { "\"\($0)\"" } ?? "null" }
        let extra = padding > 0 ? ",\"padding\":\"\(String(repeating: "x", count: padding))\"" : ""
        return Data("""
            {"event":"\(event)","projectId":"\(projectId)","uploadId":\(quoted(uploadId)),\
            "fileUrl":null,"status":"\(status)","objection":\(quoted(objection)),\
            "timestamp":"2026-03-29T13:00:00.000Z"\(extra)}
            """.utf8)
    }
}
