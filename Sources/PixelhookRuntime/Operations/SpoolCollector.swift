#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// `pixelhook gc`: removes the deliveries whose payload is older than a cutoff, with their
/// results and output, and leftover temporary files; then the bookkeeping files and directory
/// of each build left empty, and project directories left empty.
///
/// A build is only touched while holding its lock, taken without waiting: a build whose
/// handlers are running is skipped whole. The payload goes first (a crash then leaves an
/// orphaned result, removed next time, never a payload without its result, which `retry` would
/// run again). Removing a payload also removes its dedup marker: the same event arriving again
/// is stored and handled as new.
public struct SpoolCollector {
    public let spool: Spool
    /// Files last modified before this instant (milliseconds since the epoch) are removed.
    public let cutoff: Int

    public init(spool: Spool, cutoff: Int) {
        self.spool = spool
        self.cutoff = cutoff
    }

    public struct Summary: Sendable, Equatable {
        public var deliveries = 0
        /// Results and outputs whose payload was already gone, and temporary files.
        public var leftovers = 0
        public var builds = 0
        public var projects = 0
        /// Builds whose handlers were running: not touched.
        public var busy: [BuildID] = []
    }

    public func run() throws(StorageError) -> Summary {
        var summary = Summary()
        let builds = try spool.buildIDs()
        for build in builds {
            let directory = spool.layout.buildDirectory(build)
            let taken: BuildLock?
            do {
                taken = try BuildLock.acquire(in: directory, wait: false)
            } catch {
                if BuildLock.isGone(error) { continue }  // another gc removed it meanwhile
                throw error
            }
            guard let lock = taken else {
                summary.busy.append(build)
                continue
            }
            let emptied = try collect(directory, into: &summary)
            if emptied {
                // Still holding the lock: a runner waiting on it sees the file gone and retries.
                unlink(SpoolLayout.arrivalsPath(in: directory))
                lock.unlinkFile()
                if rmdir(directory) == 0 { summary.builds += 1 }
            }
            lock.release()
        }
        // Only an empty directory goes; one a request is storing into right now is not empty.
        for project in (try? DirectoryListing.names(spool.layout.deliveries)) ?? [] where !project.hasPrefix(".") {
            if rmdir("\(spool.layout.deliveries)/\(project)") == 0 { summary.projects += 1 }
        }
        return summary
    }

    /// Removes what is old in one build directory; true when no delivery or other file is left
    /// beside `.arrivals` and `.lock`.
    private func collect(_ directory: String, into summary: inout Summary) throws(StorageError) -> Bool {
        let names: [String]
        do {
            names = try DirectoryListing.names(directory)
        } catch {
            throw StorageError("list", directory, error)
        }
        let payloads = Set(names.filter { SpoolLayout.event(ofPayload: $0) != nil })
        var kept = 0
        func isOld(_ name: String) -> Bool {
            DirectoryListing.status("\(directory)/\(name)").map { DirectoryListing.modified($0) < cutoff } ?? false
        }
        func remove(_ name: String) throws(StorageError) -> Bool {
            let path = "\(directory)/\(name)"
            if unlink(path) == 0 { return true }
            if errno == ENOENT { return false }
            throw StorageError("remove", path, Errno(rawValue: errno))
        }

        for name in names where name != SpoolLayout.arrivalsName && name != SpoolLayout.lockName {
            if payloads.contains(name) {
                guard isOld(name) else { kept += 1; continue }
                let event = SpoolLayout.event(ofPayload: name) ?? name
                if try remove(name) { summary.deliveries += 1 }
                for companion in SpoolLayout.Companion.allCases { _ = try remove(SpoolLayout.companionName(event: event, companion)) }
                continue
            }
            let event = SpoolLayout.event(ofCompanion: name)
            let isLeftover = name.hasPrefix(SpoolLayout.temporaryPrefix)
                || (event.map { !payloads.contains(SpoolLayout.payloadName(event: $0)) } ?? false)
            if isLeftover, isOld(name) {
                if try remove(name) { summary.leftovers += 1 }
            } else if Syscalls.exists("\(directory)/\(name)") {
                kept += 1
            }
        }
        try attempt("sync", directory) { try Syscalls.syncDirectory(directory) }
        return kept == 0
    }
}
