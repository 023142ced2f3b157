#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore

/// A handler whose runner died (SIGKILL, OOM) while its process group lives on: the group
/// holds the build's lock through the handler's fd 3, so nothing else of the build runs until
/// it ends, and no runner is left to enforce `PIXELHOOK_HANDLER_TIMEOUT`. `retry` does it
/// (SPEC "Retries"): once the timeout has passed since the handler started, it stops the group
/// (TERM, a grace period, KILL) and runs the delivery again.
///
/// Found through the runner's `EVENT.running` (`RunningMarker`), and trusted only as far as
/// the processes bear it out: the runner named there must be gone, and only a process that is
/// in the handler's process group, started no earlier than the handler, and holds the build's
/// lock file open counts as the group's. A pid or group id reused by an unrelated process is
/// never signalled: while one member of the old group lives, its id cannot be given to another.
struct OrphanedHandler {
    let delivery: StoredDelivery
    let marker: RunningMarker
    /// Live members of the handler's group holding the build's lock file open.
    let holders: [pid_t]

    var groupID: pid_t { marker.handler.pid }

    /// The orphaned handlers of the build in `directory`, whatever their age.
    static func find(in directory: String) -> [OrphanedHandler] {
        guard let names = try? DirectoryListing.names(directory) else { return [] }
        var found: [OrphanedHandler] = []
        for name in names {
            guard let event = SpoolLayout.event(ofCompanion: name, [.running]) else { continue }
            let delivery = StoredDelivery(directory: directory, event: event)
            guard let marker = RunningMarker.read(delivery.runningPath), !marker.runner.isAlive else { continue }
            let holders = lockHolders(group: marker.handler, lockPath: BuildLock.path(in: directory))
            if !holders.isEmpty { found.append(OrphanedHandler(delivery: delivery, marker: marker, holders: holders)) }
        }
        return found
    }

    /// Whether `timeoutSeconds` have passed since the handler started, at `now` (ms since the epoch).
    func isOverdue(timeoutSeconds: Int, now: Int) -> Bool {
        now - marker.startedAt >= timeoutSeconds * 1000
    }

    /// TERM to the group, up to `graceSeconds` for it to end, then KILL; true once none of its
    /// processes holds the lock any more.
    func stop(lockPath: String, graceSeconds: Double = 2) -> Bool {
        func holdersLeft() -> Bool {
            !OrphanedHandler.lockHolders(group: marker.handler, lockPath: lockPath).isEmpty
        }
        guard holdersLeft() else { return true }
        kill(-groupID, SIGTERM)
        kill(-groupID, SIGCONT)
        let killAt = Syscalls.monotonicSeconds() + graceSeconds
        while Syscalls.monotonicSeconds() < killAt {
            if !holdersLeft() { return true }
            Syscalls.sleep(seconds: 0.02)
        }
        // Checked again just before: the group id still names the stale group.
        guard holdersLeft() else { return true }
        kill(-groupID, SIGKILL)
        let giveUp = Syscalls.monotonicSeconds() + 1
        while Syscalls.monotonicSeconds() < giveUp {
            if !holdersLeft() { return true }
            Syscalls.sleep(seconds: 0.02)
        }
        return false
    }

    /// Live processes of `group` (its leader's pid is the group id) that started no earlier
    /// than its leader and hold `lockPath` open: a scan of every process on the host, done
    /// only for a build that is locked while its runner is gone.
    static func lockHolders(group leader: ProcessIdentity, lockPath: String) -> [pid_t] {
        var lock = stat()
        guard stat(lockPath, &lock) == 0, let pids = try? DirectoryListing.names("/proc") else { return [] }
        return pids.compactMap(pid_t.init).filter { pid in
            guard let fields = ProcessIdentity.statFields(pid), fields.count > 19, fields[0] != "Z",
                  pid_t(fields[2]) == leader.pid, let start = Int(fields[19]), start >= leader.start
            else { return false }
            return holdsOpen(pid, device: lock.st_dev, inode: lock.st_ino)
        }
    }

    private static func holdsOpen(_ pid: pid_t, device: dev_t, inode: ino_t) -> Bool {
        guard let descriptors = try? DirectoryListing.names("/proc/\(pid)/fd") else { return false }
        return descriptors.contains { fd in
            var info = stat()
            return stat("/proc/\(pid)/fd/\(fd)", &info) == 0 && info.st_dev == device && info.st_ino == inode
        }
    }
}
