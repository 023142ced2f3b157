import Foundation
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// What /proc says about processes and sockets: children, zombies, listening ports, roles.
enum ProcTable {
    /// Inodes of sockets listening on 127.0.0.1:port or 0.0.0.0:port.
    static func listeningInodes(port: Int) -> Set<String> {
        let hexPort = String(format: "%04X", port)
        var inodes: Set<String> = []
        let table = (try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)) ?? ""
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[3] == "0A",
                  fields[1] == "0100007F:\(hexPort)" || fields[1] == "00000000:\(hexPort)" else { continue }
            inodes.insert(String(fields[9]))
        }
        return inodes
    }

    static func socketInodes(of pid: pid_t) -> Set<String> {
        let directory = "/proc/\(pid)/fd"
        var inodes: Set<String> = []
        for fd in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + fd),
                  target.hasPrefix("socket:[") else { continue }
            inodes.insert(String(target.dropFirst("socket:[".count).dropLast()))
        }
        return inodes
    }

    /// `(state, parent)` of a process from /proc/PID/stat, nil if there is none.
    static func stat(_ pid: pid_t) -> (state: Character, parent: pid_t)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let state = fields[0].first, let parent = pid_t(fields[1]) else { return nil }
        return (state, parent)
    }

    /// Running (a zombie is not: this container's PID 1 may never reap orphans).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let info = stat(pid) else { return false }
        return info.state != "Z" && info.state != "X"
    }

    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { stat($0)?.parent == parent && isAlive($0) }.sorted()
    }

    /// Children of `parent` in state Z: exited, never reaped.
    static func zombies(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter {
            guard let info = stat($0) else { return false }
            return info.parent == parent && info.state == "Z"
        }.sorted()
    }

    /// Running children of `parent` started as `pixelhook fastcgi --supervised`: the responder
    /// that serves, under the supervising one (`FastCGISupervisor`).
    static func supervisedChildren(of parent: pid_t) -> [pid_t] {
        children(of: parent).filter {
            let arguments = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\($0)/cmdline"))) ?? Data()
            return arguments.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "--supervised" }
        }
    }

    /// Running children of `parent` whose fd 0 is a socket: a FastCGI responder started on a
    /// listening socket (lighttpd's `bin-path`), not a CGI program (its stdin is a pipe).
    static func socketChildren(of parent: pid_t) -> [pid_t] {
        children(of: parent).filter {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/fd/0"))?.hasPrefix("socket:") == true
        }
    }

    /// Resident memory of a process in KiB (`VmRSS`), nil if it is gone.
    static func residentKiB(_ pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
        }
        return nil
    }

    /// Waits up to `timeout` seconds for a process to be gone (a zombie counts as gone).
    static func waitUntilGone(_ pid: pid_t, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isAlive(pid), Date() < deadline { usleep(20_000) }
        return !isAlive(pid)
    }
}
