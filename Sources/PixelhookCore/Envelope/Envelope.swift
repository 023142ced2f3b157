/// One Streampixel webhook payload that passed validation.
///
/// `uploadId`, `fileUrl` and `objection` are `nil` both when the sender wrote `null` and when it
/// left the field out: the contract treats the two alike.
public struct Envelope: Sendable, Equatable {
    public var event: String
    public var projectId: String
    public var uploadId: String?
    public var fileUrl: String?
    public var status: String
    public var objection: String?
    public var timestamp: String

    public init(
        event: String, projectId: String, uploadId: String?, fileUrl: String?,
        status: String, objection: String?, timestamp: String
    ) {
        self.event = event
        self.projectId = projectId
        self.uploadId = uploadId
        self.fileUrl = fileUrl
        self.status = status
        self.objection = objection
        self.timestamp = timestamp
    }
}
