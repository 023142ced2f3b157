#if canImport(Glibc)
import Glibc
#endif

/// `EVENT.running`: who runs a delivery's handler right now, written by its runner once the
/// handler has started and removed when it has ended. Found after a runner died (SIGKILL,
/// OOM) while the handler's group lives on and keeps the build locked through its fd 3: then
/// `retry` knows which group to stop, and since when it ran (`OrphanedHandler`).
///
/// One line: `RUNNER_PID RUNNER_START HANDLER_PID HANDLER_START STARTED_AT_MS ATTEMPT`, the
/// starts in clock ticks since boot (`/proc/PID/stat`), which tell a process from a later
/// one given the same pid.
struct RunningMarker: Equatable {
    var runner: ProcessIdentity
    /// The handler, leader of its own process group (pgid = pid).
    var handler: ProcessIdentity
    /// Wall-clock start, milliseconds since the epoch.
    var startedAt: Int
    /// Which attempt of the delivery this run is (`HandlerResult.attempts`).
    var attempt: Int

    var line: String {
        "\(runner.pid) \(runner.start) \(handler.pid) \(handler.start) \(startedAt) \(attempt)\n"
    }

    init(runner: ProcessIdentity, handler: ProcessIdentity, startedAt: Int, attempt: Int) {
        self.runner = runner
        self.handler = handler
        self.startedAt = startedAt
        self.attempt = attempt
    }

    init?(line: String) {
        let fields = line.split(separator: " ")
        let values = fields.compactMap { Int($0.filter { $0 != "\n" }) }
        guard fields.count == 6, values.count == 6, values[0] > 0, values[2] > 0 else { return nil }
        runner = ProcessIdentity(pid: pid_t(values[0]), start: values[1])
        handler = ProcessIdentity(pid: pid_t(values[2]), start: values[3])
        startedAt = values[4]
        attempt = values[5]
    }

    static func read(_ path: String) -> RunningMarker? {
        guard let bytes = try? FileContents.read(path, limit: 256) else { return nil }
        return RunningMarker(line: String(decoding: bytes, as: UTF8.self))
    }

    /// Best effort: without it a dead runner's group is only found when it ends by itself.
    func write(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}

/// A process as it was when seen: its pid and its start time, so that a later process that
/// reused the pid is not taken for it.
struct ProcessIdentity: Equatable {
    let pid: pid_t
    /// Clock ticks after boot (field 22 of `/proc/PID/stat`).
    let start: Int

    /// The process `pid` is now; nil once it is gone.
    static func of(_ pid: pid_t) -> ProcessIdentity? {
        startTime(pid).map { ProcessIdentity(pid: pid, start: $0) }
    }

    /// Whether this very process still runs (a zombie counts as gone).
    var isAlive: Bool {
        guard let stat = ProcessIdentity.statFields(pid), stat.count > 19 else { return false }
        return stat[0] != "Z" && Int(stat[19]) == start
    }

    static func startTime(_ pid: pid_t) -> Int? {
        guard let fields = statFields(pid), fields.count > 19 else { return nil }
        return Int(fields[19])
    }

    /// The fields of `/proc/PID/stat` after the command name (which may hold spaces and
    /// parentheses): state first, then ppid, pgrp, … so field N of proc(5) is at N - 3.
    static func statFields(_ pid: pid_t) -> [Substring]? {
        guard let bytes = try? FileContents.read("/proc/\(pid)/stat", limit: 4096) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }
}
