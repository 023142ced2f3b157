#if canImport(Glibc)
import Glibc
#endif
import CPosix

/// What a handler leaves behind when it ends: members of its group whose parent died, and
/// daemons that left the group with `setsid()`. The commands that run handlers are child
/// subreapers (`adoptOrphans`), so both become our children, found in
/// `/proc/self/task/*/children` instead of a scan of every process on the host.
extension HandlerProcess {
    /// Members of the handler's group whose parent died are our children (we are a subreaper):
    /// collect the ones that have exited, or they would stay as zombies of ours.
    func reapGroupOrphans(_ leader: pid_t) {
        for other in ownChildren() where other != leader && getpgid(other) == leader {
            _ = waitpid(other, nil, WNOHANG)
        }
    }

    /// SPEC "Handlers": no process stays behind once the handler has ended, not even one that
    /// left its process group and its environment (`setsid env -i daemon &`). A subreaper that
    /// runs one handler at a time (`adoptOrphans`) has no child but the leader except what that
    /// handler left: each gets TERM, a grace period, then KILL, and is reaped. Its own children
    /// come to us as it dies, and are stopped in turn. No marker is needed, and none is trusted.
    /// (In a process that is no subreaper, such as a test's, what left the group went to
    /// another reaper and is not ours to find.)
    func stopLeftovers(leader: pid_t, reading: () -> Void) {
        guard pixelhook_is_subreaper() == 1 else { return }
        var signalled: Set<pid_t> = []
        let kill9At = Syscalls.monotonicSeconds() + killGraceSeconds
        let giveUp = kill9At + 1
        while true {
            // A zombie is collected, not signalled: its number could be reused meanwhile.
            let left = ownChildren().filter { $0 != leader && waitpid($0, nil, WNOHANG) == 0 }
            if left.isEmpty { return }
            let now = Syscalls.monotonicSeconds()
            if now >= giveUp { return }
            for other in left where now >= kill9At || !signalled.contains(other) {
                kill(other, now >= kill9At ? SIGKILL : SIGTERM)
                kill(other, SIGCONT)
                signalled.insert(other)
            }
            reading()
        }
    }

    /// Children of every thread of this process (`/proc/self/task/TID/children`).
    func ownChildren() -> [pid_t] {
        var children: [pid_t] = []
        for tid in (try? DirectoryListing.names("/proc/self/task")) ?? [] {
            guard let list = try? FileContents.read("/proc/self/task/\(tid)/children", limit: 1 << 20) else { continue }
            children += list.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") })
                .compactMap { pid_t(String(decoding: $0, as: UTF8.self)) }
        }
        return children
    }
}
