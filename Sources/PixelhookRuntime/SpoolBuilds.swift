import PixelhookCore
import SystemPackage

/// The builds in the spool, for the operator commands (`builds`, `retry`, `replay`, `gc`).
extension Spool {
    public func buildDirectory(_ build: BuildID) -> String { "\(deliveries)/\(build.project)/\(build.build)" }

    /// Every build directory, `deliveries/PROJECT/BUILD`, sorted; only those of the projectId
    /// `projectId` when given. A spool with no deliveries yet has none.
    public func buildIDs(projectId: String? = nil) throws(StorageError) -> [BuildID] {
        try verifyTrusted()
        let projects: [String]
        if let projectId {
            projects = [DeliveryKey.segment(projectId)]
        } else {
            projects = try names(deliveries).filter { !$0.hasPrefix(".") }
        }
        var builds: [BuildID] = []
        for project in projects where DirectoryListing.isDirectory("\(deliveries)/\(project)") {
            for build in try names("\(deliveries)/\(project)") where !build.hasPrefix(".") {
                if DirectoryListing.isDirectory("\(deliveries)/\(project)/\(build)") {
                    builds.append(BuildID(project: project, build: build))
                }
            }
        }
        return builds.sorted()
    }

    /// What `pixelhook builds` reports on: each build's deliveries in arrival order with their
    /// payloads, times and results, and whether its handlers are running.
    public func storedBuilds(projectId: String? = nil) throws(StorageError) -> [StoredBuild] {
        var builds: [StoredBuild] = []
        for id in try buildIDs(projectId: projectId) {
            let queue = BuildQueue(spool: self, build: id)
            var entries: [StoredBuild.Entry] = []
            for delivery in try queue.deliveries() {
                // Removed meanwhile (gc): skip it, as a later listing would.
                guard let receivedAt = delivery.receivedAt(),
                      let body = try? FileContents.read(delivery.payloadPath)
                else { continue }
                entries.append(StoredBuild.Entry(name: delivery.stem, body: body, receivedAt: receivedAt, result: delivery.result()))
            }
            builds.append(StoredBuild(id: id, isLocked: queue.isBusy, entries: entries))
        }
        return builds
    }

    private func names(_ path: String) throws(StorageError) -> [String] {
        do {
            return try DirectoryListing.names(path)
        } catch {
            if error == .noSuchFileOrDirectory { return [] }
            throw StorageError("list", path, error)
        }
    }
}
