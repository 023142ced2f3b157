import Foundation

/// Request bodies: the sender's documented examples, verbatim, and variations of them.
enum Payloads {
    /// The four example payloads of `seeds/streampixel-webhooks.md`, byte for byte as documented
    /// (pretty-printed), by event.
    static let seeds: [(event: String, body: String)] = [
        ("build.approved", """
            {
              "event": "build.approved",
              "projectId": "664f1a2b3c4d5e6f7a8b9c0d",
              "uploadId": "665a2b3c4d5e6f7a8b9c0e1f",
              "fileUrl": "https://cdn.streampixel.io/builds/my-build.zip",
              "status": "Approved",
              "objection": null,
              "timestamp": "2026-03-29T14:30:00.000Z"
            }
            """),
        ("build.rejected", """
            {
              "event": "build.rejected",
              "projectId": "664f1a2b3c4d5e6f7a8b9c0d",
              "uploadId": "665a2b3c4d5e6f7a8b9c0e1f",
              "fileUrl": "https://cdn.streampixel.io/builds/my-build.zip",
              "status": "Reject",
              "objection": "Build contains unsupported file formats.",
              "timestamp": "2026-03-29T15:00:00.000Z"
            }
            """),
        ("build.uploaded", """
            {
              "event": "build.uploaded",
              "projectId": "664f1a2b3c4d5e6f7a8b9c0d",
              "uploadId": "665a2b3c4d5e6f7a8b9c0e1f",
              "fileUrl": null,
              "status": "pending",
              "objection": null,
              "timestamp": "2026-03-29T13:00:00.000Z"
            }
            """),
        ("webhook.test", """
            {
              "event": "webhook.test",
              "projectId": "test_project_id",
              "uploadId": "test_upload_id",
              "fileUrl": "https://example.com/test-build.zip",
              "status": "test",
              "objection": null,
              "timestamp": "2026-03-29T14:30:00.000Z"
            }
            """),
    ]

    static func seed(_ event: String) -> Data {
        Data(seeds.first { $0.event == event }!.body.utf8)
    }

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
