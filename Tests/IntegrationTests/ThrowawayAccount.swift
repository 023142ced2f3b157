import Foundation
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A real login account for one test (`useradd -m`, uid ≥ 1000), as a shared-hosting customer
/// has: `with` creates it, runs the body, and removes it with its home (`userdel -r`) whatever
/// happens.
struct ThrowawayAccount {
    let name: String
    let uid: uid_t
    let gid: gid_t
    let home: String

    static func with<T>(_ body: (ThrowawayAccount) throws -> T) throws -> T {
        let name = "phweb\(getpid())"
        try ToolRun.check("/usr/sbin/useradd", ["-m", "-s", "/bin/sh", name])
        defer { _ = try? ToolRun.check("/usr/sbin/userdel", ["-r", "-f", name]) }
        guard let entry = getpwnam(name) else { throw FixtureError("useradd made no \(name)") }
        let account = ThrowawayAccount(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid,
                                       home: String(cString: entry.pointee.pw_dir))
        guard account.uid >= 1000 else { throw FixtureError("\(name) got uid \(account.uid), below suEXEC's minimum") }
        // The web server must traverse the home to reach public_html, as on any shared host.
        chmod(account.home, 0o711)
        return try body(account)
    }

    /// Writes `text` at `relative` (under the home), parent directories 0755, all owned by the
    /// account: suEXEC refuses files or directories of another owner or writable by others.
    func write(_ relative: String, _ text: String, mode: mode_t) throws {
        try install(relative, mode: mode) { try text.write(toFile: $0, atomically: false, encoding: .utf8) }
    }

    func copy(_ source: String, to relative: String, mode: mode_t) throws {
        try install(relative, mode: mode) { try FileManager.default.copyItem(atPath: source, toPath: $0) }
    }

    func makeDirectory(_ relative: String) throws {
        try install(relative + "/.", mode: 0o755) { _ in }
    }

    private func install(_ relative: String, mode: mode_t, _ create: (String) throws -> Void) throws {
        var directory = home
        for part in relative.split(separator: "/").dropLast() {
            directory += "/" + part
            if mkdir(directory, 0o755) == 0 || errno == EEXIST {
                chown(directory, uid, gid)
                chmod(directory, 0o755)
            }
        }
        guard !relative.hasSuffix("/.") else { return }
        let path = home + "/" + relative
        try create(path)
        chown(path, uid, gid)
        chmod(path, mode)
    }

    /// Runs a program as the account (`runuser`), with a plain environment.
    func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try ToolRun.run("/usr/sbin/runuser", ["-u", name, "--", executable] + arguments,
                        environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"])
    }
}
