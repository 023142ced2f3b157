/// One build's place in the spool, `deliveries/PROJECT/BUILD`: its projectId and uploadId as
/// the path segments `DeliveryKey` makes of them (readable ids kept, others `~sha256`).
public struct BuildID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let project: String
    public let build: String

    public init(project: String, build: String) {
        self.project = project
        self.build = build
    }

    /// The build of a raw projectId and uploadId (`nil`: the events sent before an upload).
    public init(projectId: String, uploadId: String?) {
        project = DeliveryKey.segment(projectId)
        build = uploadId.map(DeliveryKey.segment) ?? DeliveryKey.noUpload
    }

    /// `PROJECT/BUILD`, the first two segments of every `PIXELHOOK_DELIVERY` of the build.
    public var description: String { "\(project)/\(build)" }

    public static func < (left: BuildID, right: BuildID) -> Bool {
        (left.project, left.build) < (right.project, right.build)
    }
}

extension DeliveryKey {
    public var buildID: BuildID { BuildID(project: project, build: build) }
}
