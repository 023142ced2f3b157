#if canImport(Glibc)
import Glibc
#endif

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

    /// The environment entries that mark a process as started by this run: a daemon that
    /// called `setsid()` (the classic double fork) has left the handler's process group but
    /// keeps the environment it inherited. The payload path makes them unique: one delivery of
    /// one spool runs one handler at a time (the build's lock). Nil when the caller passes no
    /// such entries (`send` running curl): nothing is looked for then.
    var runMarkers: [[UInt8]]? {
        guard let payload = environment["PIXELHOOK_PAYLOAD"], let delivery = environment["PIXELHOOK_DELIVERY"] else { return nil }
        return [Array("PIXELHOOK_PAYLOAD=\(payload)".utf8), Array("PIXELHOOK_DELIVERY=\(delivery)".utf8)]
    }

    /// SPEC "Handlers": no process stays behind once the handler has ended, not even one that
    /// left its process group. Those still carrying this run's environment get TERM, a grace
    /// period, then KILL. (A process that also replaced its environment cannot be told apart
    /// from any other; only a cgroup would catch it.)
    func stopEscapees(leader: pid_t, reading: () -> Void) {
        guard let markers = runMarkers else { return }
        var escapees = processes(carrying: markers, besides: leader)
        guard !escapees.isEmpty else { return }
        for other in escapees {
            kill(other, SIGTERM)
            kill(other, SIGCONT)
        }
        let giveUp = Syscalls.monotonicSeconds() + killGraceSeconds
        let stopped = escapees
        while Syscalls.monotonicSeconds() < giveUp {
            escapees = processes(carrying: markers, besides: leader)
            if escapees.isEmpty { return reapEscapees(stopped) }
            reading()
        }
        for other in processes(carrying: markers, besides: leader) { kill(other, SIGKILL) }
        reapEscapees(escapees)
    }

    /// Escapees are our children: collect their exit so no zombie stays behind.
    func reapEscapees(_ pids: [pid_t]) {
        var left = Set(pids)
        let giveUp = Syscalls.monotonicSeconds() + 1
        while !left.isEmpty, Syscalls.monotonicSeconds() < giveUp {
            left = left.filter { waitpid($0, nil, WNOHANG) == 0 }
            if !left.isEmpty { Syscalls.sleep(seconds: 0.01) }
        }
    }

    /// Our children (not the leader) whose initial environment holds every one of `markers`
    /// as a whole entry. We are a child subreaper (`adoptOrphans`), so a daemon that left the
    /// handler's group is our child once its parents are gone: no scan of every process on the
    /// host. The markers tell this run's escapees from other runs' handlers in a process that
    /// runs several at once. A zombie's environment reads empty: it does not count.
    func processes(carrying markers: [[UInt8]], besides leader: pid_t) -> [pid_t] {
        ownChildren().filter { other in
            guard other != leader, let environ = try? FileContents.read("/proc/\(other)/environ") else { return false }
            let variables = environ.split(separator: 0)
            return markers.allSatisfy { marker in variables.contains { $0.elementsEqual(marker) } }
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
