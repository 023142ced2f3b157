import PixelhookCore

/// `pixelhook replay UPLOAD_ID`: runs the stored deliveries of one upload again on purpose,
/// whatever their results, replacing them; waits for each build's lock.
public struct Replay {
    public let settings: Settings
    public let uploadId: String
    /// Only this event (`webhook.test` matches every stored test delivery).
    public let event: String?
    /// Only this projectId; every project holding the upload otherwise.
    public let projectId: String?

    public init(settings: Settings, uploadId: String, event: String? = nil, projectId: String? = nil) {
        self.settings = settings
        self.uploadId = uploadId
        self.event = event
        self.projectId = projectId
    }

    /// The matching deliveries, by build, in arrival order; builds with none are left out.
    public func matches() throws(StorageError) -> [(build: BuildID, deliveries: [StoredDelivery])] {
        let spool = Spool(root: settings.spool)
        let buildSegment = DeliveryKey.segment(uploadId)
        let eventSegment = event.map(DeliveryKey.segment)
        var found: [(build: BuildID, deliveries: [StoredDelivery])] = []
        for build in try spool.buildIDs(projectId: projectId) where build.build == buildSegment {
            let deliveries = try BuildQueue(settings: settings, build: build).deliveries().filter { delivery in
                guard let eventSegment else { return true }
                return delivery.stem == eventSegment || delivery.stem.hasPrefix(eventSegment + "~")
            }
            if !deliveries.isEmpty { found.append((build, deliveries)) }
        }
        return found
    }

    /// Runs every match again, build by build; `each` sees each run as it ends.
    @discardableResult
    public func run(each: (BuildQueue.Run) -> Void = { _ in }) throws(StorageError) -> [BuildQueue.Run] {
        var runs: [BuildQueue.Run] = []
        for (build, deliveries) in try matches() {
            let names = Set(deliveries.map(\.name))
            runs += try BuildQueue(settings: settings, build: build).drain(.named(names), wait: true, each: each) ?? []
        }
        return runs
    }
}
