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

    /// The most bytes a line takes, whatever the client sent: each field it echoes is cut as
    /// the answer cuts it (`EnvelopeParser.cut`), so an anonymous client cannot fill the disk
    /// with 60 kB lines. Five echoed fields of 65 characters and an outcome of 257, each
    /// character at most 6 bytes once escaped (`\u0001`), plus the names: under 4 KiB.
    public static let maximumLineBytes = 4096

    /// The outcome holds pixelhook's own reason, which already cuts what it quotes; this
    /// bound only keeps a reason that quotes something long (a storage path) from growing.
    static let outcomeCharacters = 256

    public var lineBytes: [UInt8] {
        let cut = { (text: String?) in text.map { EnvelopeParser.cut($0) } }
        return JSONObject()
            .string("time", time).string("remote", EnvelopeParser.cut(remoteAddress))
            .string("method", EnvelopeParser.cut(method))
            .int("status", status).string("event", cut(event)).string("projectId", cut(projectId))
            .string("uploadId", cut(uploadId)).string("outcome", EnvelopeParser.cut(outcome, to: RequestRecord.outcomeCharacters))
            .bytes + [UInt8(ascii: "\n")]
    }
}
