/// One line of the spool's request log: every request, accepted or not.
public struct RequestRecord: Sendable, Equatable {
    public var time: String
    public var remoteAddress: String
    public var method: String
    public var status: Int
    public var event: String?
    public var projectId: String?
    public var uploadId: String?
    /// `stored`, `duplicate`, `ignored: …`, `health`, or the refusal's code and reason.
    public var outcome: String

    public init(time: String, remoteAddress: String, method: String, status: Int,
                envelope: Envelope?, outcome: String) {
        self.time = time
        self.remoteAddress = remoteAddress
        self.method = method
        self.status = status
        self.event = envelope?.event
        self.projectId = envelope?.projectId
        self.uploadId = envelope?.uploadId
        self.outcome = outcome
    }

    /// One JSON object and a newline, written with a single `write(2)`.
    public var line: String { String(decoding: lineBytes, as: UTF8.self) }

    public var lineBytes: [UInt8] {
        JSONObject()
            .string("time", time).string("remote", remoteAddress).string("method", method)
            .int("status", status).string("event", event).string("projectId", projectId)
            .string("uploadId", uploadId).string("outcome", outcome)
            .bytes + [UInt8(ascii: "\n")]
    }
}
