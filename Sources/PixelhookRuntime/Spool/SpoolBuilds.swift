import PixelhookCore
import SystemPackage

/// The builds in the spool, for the operator commands (`builds`, `retry`, `replay`, `gc`).
extension Spool {
    /// Every build directory, `deliveries/PROJECT/BUILD`, sorted; only those of the projectId
    /// `projectId` when given. A spool with no deliveries yet has none.
    public func buildIDs(projectId: String? = nil) throws(StorageError) -> [BuildID] {
        try verifyTrusted()
        let projects: [String]
        if let projectId {
            projects = [DeliveryKey.segment(projectId)]
        } else {
            projects = try names(layout.deliveries).filter { !$0.hasPrefix(".") }
        }
        var builds: [BuildID] = []
        for project in projects where DirectoryListing.isDirectory("\(layout.deliveries)/\(project)") {
            for build in try names("\(layout.deliveries)/\(project)") where !build.hasPrefix(".") {
                if DirectoryListing.isDirectory("\(layout.deliveries)/\(project)/\(build)") {
                    builds.append(BuildID(project: project, build: build))
                }
            }
        }
        return builds.sorted()
    }

    /// What `pixelhook builds` reports on: each build's deliveries in arrival order with their
    /// payloads, times and results, and whether its handlers are running. With `newest`, only
    /// enough builds to hold the `newest` most recently received (`newestBuilds`). With
    /// `outputHead` > 0, also the first that many bytes of each handler's output (the status page).
    public func storedBuilds(
        projectId: String? = nil, newest limit: Int? = nil, outputHead: Int = 0
    ) throws(StorageError) -> [StoredBuild] {
        let ids = try buildIDs(projectId: projectId)
        let read = { (id: BuildID) throws(StorageError) -> StoredBuild in try storedBuild(id, outputHead: outputHead) }
        guard let limit, limit < ids.count else {
            var builds: [StoredBuild] = []
            for id in ids { builds.append(try read(id)) }
            return builds
        }
        let modified = ids.map { id -> (BuildID, Int) in
            (id, DirectoryListing.status(layout.buildDirectory(id)).map(DirectoryListing.modified) ?? Int.max)
        }
        return try Spool.newestBuilds(modified, limit: limit, read: read)
    }

    /// Reads builds newest directory first until the `limit` most recently received are known.
    /// A build's last delivery was stored no later than its directory last changed (the
    /// payload's name is added after its body is written), so once `limit` builds read have a
    /// delivery newer than the next directory's change, no build left can be among them.
    /// `modified` is each build with its directory's mtime (milliseconds).
    static func newestBuilds(
        _ modified: [(BuildID, Int)], limit: Int, read: (BuildID) throws(StorageError) -> StoredBuild
    ) throws(StorageError) -> [StoredBuild] {
        let ordered = modified.sorted { ($0.1, $1.0) > ($1.1, $0.0) }
        var builds: [StoredBuild] = []
        var newest: [Int] = []  // the `limit` largest last-received times read, ascending
        for (id, changed) in ordered {
            if newest.count == limit, let least = newest.first, least > changed { break }
            let build = try read(id)
            builds.append(build)
            guard let last = build.entries.map(\.receivedAt).max() else { continue }
            var low = 0, high = newest.count
            while low < high {
                let middle = (low + high) / 2
                if newest[middle] < last { low = middle + 1 } else { high = middle }
            }
            newest.insert(last, at: low)
            if newest.count > limit { newest.removeFirst() }
        }
        return builds
    }

    /// One build, as `storedBuilds` reads it; empty when the spool has none of it.
    public func storedBuild(_ id: BuildID, outputHead: Int) throws(StorageError) -> StoredBuild {
        let queue = BuildQueue(spool: self, build: id)
        var entries: [StoredBuild.Entry] = []
        for delivery in try queue.deliveries() {
            // Removed meanwhile (gc): skip it, as a later listing would.
            guard let receivedAt = delivery.receivedAt(),
                  let body = try? FileContents.read(delivery.payloadPath)
            else { continue }
            let output = outputHead > 0 ? delivery.outputHead(bytes: outputHead) : nil
            entries.append(StoredBuild.Entry(name: delivery.stem, body: body, receivedAt: receivedAt,
                                             result: delivery.result(), outputHead: output))
        }
        return StoredBuild(id: id, isLocked: queue.isBusy, entries: entries)
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
