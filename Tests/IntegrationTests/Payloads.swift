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
        Data(SenderPayload.json(event: event, projectId: projectId, uploadId: uploadId, status: status, objection: objection,
                                timestamp: "2026-03-29T13:00:00.000Z", padding: padding).utf8)
    }
}
