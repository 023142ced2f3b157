#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage
import CPosix

/// The spool directory: everything pixelhook remembers lives here, nothing in memory. Where
/// each file is: `SpoolLayout`.
public struct Spool: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public var layout: SpoolLayout { SpoolLayout(root: root) }

    /// Creates the spool (mode 0700) and its fixed subdirectories if missing.
    public func prepare() throws(StorageError) {
        for directory in [root, layout.deliveries, layout.runners, layout.pending] {
            _ = try attempt("create", directory) { try Syscalls.makeDirectory(directory) }
        }
    }

    /// `nil` when deliveries can be stored; otherwise why not, for the health check.
    public func problem() -> String? { storageProblem()?.description }

    /// The same as the error, whose `publicReason` is what an HTTP client may see.
    public func storageProblem() -> StorageError? {
        do {
            try verifyTrusted()  // before prepare() makes anything in a spool that is not ours
            try prepare()
        } catch {
            return error
        }
        for directory in [layout.deliveries, layout.runners, layout.pending] where access(directory, W_OK) != 0 {
            return StorageError("write to", directory, Errno(rawValue: errno))
        }
        // A full disk still passes access(2); the next delivery would get a 503.
        var space = statvfs()
        if statvfs(layout.deliveries, &space) == 0, space.f_bavail == 0 || (space.f_files > 0 && space.f_favail == 0) {
            return StorageError("write to", layout.deliveries, .noSpace)
        }
        return nil
    }

    /// Refuses a spool that is not ours alone (`SpoolTrust`): the root and its fixed
    /// directories, one `stat` each. Whatever lies below them was made by us, or by someone who
    /// could write here once; entries are checked again where they are read.
    public func verifyTrusted() throws(StorageError) {
        let us = geteuid()
        for directory in [root, layout.deliveries, layout.pending, layout.runners] { try SpoolTrust.check(directory, us: us) }
    }

    public enum StoreOutcome: Sendable, Equatable {
        case stored
        case duplicate
    }

    /// Stores the raw body durably under its dedup key, exactly once across processes.
    ///
    /// The body is written whole to an unnamed `O_TMPFILE`, then gets its name with `linkat`,
    /// then is synced (`fdatasync`), then the build directory is: on a journalling filesystem
    /// the data, the new name and a new build directory reach the disk in one journal commit
    /// (syncing before the link took two: bench/README.md). The name is the dedup marker;
    /// `EEXIST` means another request got there first. No 200, stored or duplicate, is sent
    /// before the payload and its name are synced, so a 200 never acknowledges an entry that a
    /// power cut could take back.
    ///
    /// Because the body is written before the name exists, any process that sees the name sees
    /// the whole body, whatever is killed when. Only a power cut (or kernel crash) between the
    /// link and the sync can leave a named payload cut short, and that payload was never
    /// answered. Such a payload is still writable (see below): a duplicate that finds it
    /// replaces it with its own body, and the build's queue leaves it out (`isCutShort`).
    ///
    /// Once the syncs have returned, the payload is made read-only (`durableMode`, no sync
    /// needed): a later duplicate that sees that mode knows the entry is whole and on disk and
    /// answers without a directory `fsync`, which costs a device cache flush (0.3-0.8 ms here)
    /// even when nothing is dirty. A duplicate that finds the payload still writable (its
    /// original in flight, or cut short by a power cut, or a spool from an older pixelhook)
    /// confirms it first (`confirmUnmarked`), then marks it.
    public func store(_ delivery: Delivery) throws(StorageError) -> StoreOutcome {
        do {
            return try storeOnce(delivery)
        } catch where error.errno == .noSuchFileOrDirectory {
            // `gc` removed the build directory between our look and our write: make it again.
            return try storeOnce(delivery)
        }
    }

    /// The mode of a payload whose name is known to be on disk (see `store`).
    public static let durableMode: mode_t = 0o400

    private func storeOnce(_ delivery: Delivery) throws(StorageError) -> StoreOutcome {
        let payload = layout.payloadPath(delivery.key)
        var info = stat()
        let found = stat(payload, &info) == 0
        if found, info.st_mode & 0o777 == Spool.durableMode { return .duplicate }
        let (buildDirectory, newParents) = try makeBuildDirectory(delivery.key)
        let outcome: StoreOutcome
        if found {
            outcome = try confirmUnmarked(payload, against: delivery, in: buildDirectory)
        } else {
            try noteArrival(delivery.key, in: buildDirectory)
            outcome = try writeNew(delivery, at: payload, in: buildDirectory)
        }
        // Innermost first: on a journalling filesystem the payload's own sync has usually
        // committed the new directories already, so these cost a syscall, not a disk flush.
        for directory in [buildDirectory] + newParents {
            try attempt("sync", directory) { try Syscalls.syncDirectory(directory) }
        }
        chmod(payload, Spool.durableMode)  // only after the syncs returned; a hint, not synced
        return outcome
    }

    /// Appends the event to the build's arrival order *before* its payload gets a name, so any
    /// runner that sees the payload also sees its place in line. Timestamps cannot give this
    /// order: ctime ticks in milliseconds. A line whose link then fails (a duplicate racing
    /// us, a crash) names no new payload and is skipped by the reader. Not synced: after a
    /// power cut, unlisted payloads are run after the listed ones.
    func noteArrival(_ key: DeliveryKey, in buildDirectory: String) throws(StorageError) {
        let path = SpoolLayout.arrivalsPath(in: buildDirectory)
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StorageError("open", path, Errno(rawValue: errno)) }
        defer { close(fd) }
        let line = Array((key.event + "\n").utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else { throw StorageError("write", path, Errno(rawValue: errno)) }
    }

    /// `deliveries/PROJECT/BUILD`, and the directories whose entries this call changed (to be
    /// synced, innermost first, once the payload is written).
    private func makeBuildDirectory(_ key: DeliveryKey) throws(StorageError) -> (String, [String]) {
        let project = "\(layout.deliveries)/\(key.project)"
        let build = "\(project)/\(key.build)"
        if Syscalls.exists(build) { return (build, []) }
        if !Syscalls.exists(layout.deliveries) { try prepare() }
        var changed: [String] = []
        for (directory, parent) in [(project, layout.deliveries), (build, project)] {
            let created = try attempt("create", directory) { try Syscalls.makeDirectory(directory) }
            if created { changed.insert(parent, at: 0) }
        }
        return (build, changed)
    }

    private func writeNew(_ delivery: Delivery, at path: String, in directory: String) throws(StorageError) -> StoreOutcome {
        let unnamed = pixelhook_open_tmpfile(directory, 0o600)
        if unnamed < 0 {
            let error = errno
            // Filesystems without O_TMPFILE: a named temporary file, unlinked on every exit.
            guard error == EOPNOTSUPP || error == EISDIR || error == EINVAL else {
                throw StorageError("create a file in", directory, Errno(rawValue: error))
            }
            return try writeNewViaTemporaryName(delivery, at: path, in: directory)
        }
        let fd = FileDescriptor(rawValue: unnamed)
        defer { try? fd.close() }
        return try publish(delivery, through: fd, at: path, in: directory) { pixelhook_link_tmpfile(unnamed, path) }
    }

    private func writeNewViaTemporaryName(_ delivery: Delivery, at path: String, in directory: String) throws(StorageError) -> StoreOutcome {
        try withTemporaryFile(in: directory) { temporary, fd throws(StorageError) in
            try publish(delivery, through: fd, at: path, in: directory) { link(temporary, path) }
        }
    }

    /// The order `store` rests on: the whole body written through `fd`, then named `path` by
    /// `giveName` (0 or -1 with errno, like link(2)), then synced. `EEXIST`: another request's
    /// payload has the name. A failed sync leaves the name: its body is whole in memory, and if
    /// it never reaches the disk the payload is one a power cut cut short, handled as such.
    private func publish(
        _ delivery: Delivery, through fd: FileDescriptor, at path: String, in directory: String, giveName: () -> Int32
    ) throws(StorageError) -> StoreOutcome {
        _ = try attempt("write", path) { try fd.writeAll(delivery.body) }
        if giveName() != 0 {
            let error = errno
            if error == EEXIST { return try confirmUnmarked(path, against: delivery, in: directory) }
            throw StorageError("link", path, Errno(rawValue: error))
        }
        try attempt("sync", path) { try Syscalls.fdatasync(fd) }
        return .stored
    }

    /// Runs `body` with a new `.tmp-NONCE` file in `directory`, then closes it and removes that
    /// name: `body` links or renames it to where it belongs (`gc` removes any a crash leaves).
    func withTemporaryFile<Result>(
        in directory: String, _ body: (String, FileDescriptor) throws(StorageError) -> Result
    ) throws(StorageError) -> Result {
        let temporary = "\(directory)/\(SpoolLayout.temporaryPrefix)\(Clock.nonce())"
        let fd = try attempt("create", temporary) {
            try FileDescriptor.open(temporary, .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec],
                                    permissions: [.ownerReadWrite])
        }
        defer {
            try? fd.close()
            unlink(temporary)
        }
        return try body(temporary, fd)
    }

    func writeAndSync(_ body: [UInt8], to fd: FileDescriptor, path: String) throws(StorageError) {
        _ = try attempt("write", path) { try fd.writeAll(body) }
        try attempt("sync", path) { try Syscalls.fdatasync(fd) }
    }
}
