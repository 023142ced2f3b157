#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// `SPOOL/pending/`: one entry `PROJECT:BUILD` per build that has stored deliveries its
/// runners have not picked up yet. It is a to-do list, not a record: the payloads without a
/// result are the truth (`retry` finds them without it), so nothing here is synced. Only the
/// name counts: an entry is a hard link to the build's `.arrivals` (a new name costs no new
/// inode, which on ext4 is the dearer part of a create), or an empty file where that is
/// missing.
///
/// A receiver marks the build after storing a payload; a runner claims an entry by unlinking
/// it (exactly one claimer succeeds) and only then drains the build, so a payload stored after
/// the claim marks the build again and is never missed.
///
/// `SPOOL/unfinished/` is a second list of the same form (`unfinished(spool:)`): the builds
/// that may hold a delivery not done (never finished, failed, timed out, exit 75), which is
/// all `retry` reads. A runner lists a build there before claiming it from `pending/`, and a
/// drain before its first handler runs; the drain takes it off, under the build's lock, only
/// once every delivery of the build is done (`BuildQueue.drain`). So a runner killed at any
/// point leaves its build listed in one of the two.
public struct PendingBuilds: Sendable {
    public let spool: Spool
    public let directory: String

    public init(spool: Spool) {
        self.spool = spool
        directory = spool.layout.pending
    }

    private init(spool: Spool, directory: String) {
        self.spool = spool
        self.directory = directory
    }

    /// `SPOOL/unfinished/`: the builds `retry` looks at.
    public static func unfinished(spool: Spool) -> PendingBuilds {
        PendingBuilds(spool: spool, directory: spool.layout.unfinished)
    }

    /// `SPOOL/gave-up/`: the builds holding a delivery that gave up after
    /// `PIXELHOOK_RETRY_LIMIT` attempts. Such a build leaves `unfinished/` (retry is done with
    /// it), so this list is how `check` and the metrics find it without reading every build.
    /// An entry whose build no longer holds one (replayed, collected) is dropped by its reader.
    public static func gaveUp(spool: Spool) -> PendingBuilds {
        PendingBuilds(spool: spool, directory: spool.layout.gaveUp)
    }

    /// Takes the build off the list; a reader that found nothing to list there says so.
    public func remove(_ build: BuildID) { unlink(path(build)) }

    func path(_ build: BuildID) -> String { "\(directory)/\(SpoolLayout.listEntryName(build))" }

    /// Adds the build to the list; false if the entry could not be made (the delivery is
    /// stored all the same and `retry` will run it).
    @discardableResult
    public func mark(_ build: BuildID) -> Bool {
        let entry = path(build)
        let arrivals = SpoolLayout.arrivalsPath(in: spool.layout.buildDirectory(build))
        if link(arrivals, entry) == 0 || errno == EEXIST { return true }
        var fd = open(entry, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0, errno == ENOENT, (try? spool.prepare()) != nil,
           (try? Syscalls.makeDirectory(directory)) != nil {
            // A spool made by an older pixelhook has no pending/ or unfinished/ yet.
            if link(arrivals, entry) == 0 || errno == EEXIST { return true }
            fd = open(entry, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        }
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    /// Takes the build off the list; false if another runner took it first.
    public func claim(_ build: BuildID) -> Bool { unlink(path(build)) == 0 }

    /// The builds listed now, starting at a different place for each runner so that several
    /// runners reading the same list mostly claim different entries.
    public func listed(rotatedBy offset: Int = 0) -> [BuildID] {
        let builds = ((try? DirectoryListing.names(directory)) ?? []).compactMap { name -> BuildID? in
            let parts = name.split(separator: SpoolLayout.listSeparator, omittingEmptySubsequences: false)
            guard parts.count == 2, let project = parts.first, let build = parts.last,
                  DeliveryKey.isSegment(project), DeliveryKey.isSegment(build) else { return nil }
            return BuildID(project: String(project), build: String(build))
        }
        guard !builds.isEmpty else { return [] }
        let start = offset % builds.count
        return Array(builds[start...] + builds[..<start])
    }

    public var isEmpty: Bool { listed().isEmpty }

    /// Every build that may hold a delivery not done, once each: listed in `pending/`,
    /// `unfinished/` or `gave-up/`. What the metrics and `check` read instead of the spool.
    public static func mayHoldUndone(spool: Spool) -> [BuildID] {
        var seen = Set<BuildID>()
        return (PendingBuilds(spool: spool).listed() + unfinished(spool: spool).listed() + gaveUp(spool: spool).listed())
            .filter { seen.insert($0).inserted }
    }
}
