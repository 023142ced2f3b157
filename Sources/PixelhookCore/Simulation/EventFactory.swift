/// Payloads shaped exactly like the sender's documented examples: what `pixelhook send` and
/// `pixelhook simulate` post.
///
/// ```swift
/// let envelope = EventFactory.envelope(Pipeline.rejected, projectId: "664f…", uploadId: id,
///                                      timestamp: "2026-03-29T15:00:00.000Z")
/// envelope.json.description  // {"event":"build.rejected","projectId":"664f…",…,"timestamp":"…"}
/// ```
public enum EventFactory {
    /// The ids and file of the dashboard's Test button.
    public static let testProjectID = "test_project_id"
    public static let testUploadID = "test_upload_id"
    public static let testFileURL = "https://example.com/test-build.zip"

    /// The file and objection of the sender's build examples.
    public static let exampleFileURL = "https://cdn.streampixel.io/builds/my-build.zip"
    public static let exampleObjection = "Build contains unsupported file formats."

    /// The Test button's payload, placeholders and all.
    public static func test(timestamp: String) -> Envelope {
        envelope(Pipeline.test, projectId: testProjectID, uploadId: testUploadID, timestamp: timestamp)
    }

    /// The sender's payload for `stage`: its status string; `fileUrl` null on `build.uploaded`
    /// (the sender has not resolved the file yet), the Test button's file on `webhook.test`,
    /// else `fileUrl`; `objection` only on `build.rejected` (`exampleObjection` when `nil`).
    public static func envelope(
        _ stage: Pipeline.Stage, projectId: String, uploadId: String?,
        fileUrl: String = exampleFileURL, objection: String? = nil, timestamp: String
    ) -> Envelope {
        let file: String? = switch stage.event {
        case Pipeline.stages[0].event: nil
        case Pipeline.test.event: testFileURL
        default: fileUrl
        }
        return Envelope(
            event: stage.event, projectId: projectId, uploadId: uploadId, fileUrl: file,
            status: stage.status,
            objection: stage == Pipeline.rejected ? objection ?? exampleObjection : nil,
            timestamp: timestamp)
    }

    /// A new uploadId like the sender's: 24 lowercase hex digits.
    public static func newUploadID(using generator: inout some RandomNumberGenerator) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<24).map { _ in digits[Int(generator.next() & 0xF)] })
    }

    public static func newUploadID() -> String {
        var generator = SystemRandomNumberGenerator()
        return newUploadID(using: &generator)
    }
}

extension Envelope {
    /// The payload as the sender writes it: all seven fields, in the documented order, nulls
    /// written out.
    public var json: JSONObject {
        JSONObject()
            .string("event", event)
            .string("projectId", projectId)
            .string("uploadId", uploadId)
            .string("fileUrl", fileUrl)
            .string("status", status)
            .string("objection", objection)
            .string("timestamp", timestamp)
    }
}
