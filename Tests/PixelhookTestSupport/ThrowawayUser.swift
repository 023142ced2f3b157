import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real login account made for one test with `useradd` (uid ≥ 1000, as a shared-hosting
/// customer has), removed with its home by `userdel` when the test lets go of it, pass or fail.
///
/// ```swift
/// let user = try ThrowawayUser(home: fixture.directory + "/home")
/// try user.write(".config/pixelhook/config", text)                 // owned by the user, 0600
/// let outcome = try fixture.run(["check"], launcher: user.launcher)  // run as the user
/// ```
public final class ThrowawayUser {
    public let name: String
    public let uid: uid_t
    public let gid: gid_t
    /// Where the password database says its home is (not `$HOME`).
    public let home: String

    /// - Parameters:
    ///   - home: where its home is made; `/home/NAME` by default.
    ///   - shell: its login shell.
    ///   - homeMode: the home's mode, when the test needs another than `useradd`'s (0711: a web
    ///     server must traverse it to reach `public_html`, as on any shared host).
    public init(home: String? = nil, shell: String = "/usr/sbin/nologin", homeMode: mode_t? = nil) throws {
        name = "phtest\(getpid() % 10000)\(UInt32.random(in: 1000...9999))"
        try ToolRun.check("/usr/sbin/useradd",
                          ["--create-home"] + (home.map { ["--home-dir", $0] } ?? []) + ["--shell", shell, "--user-group", name])
        guard let entry = getpwnam(name) else {
            _ = try? ToolRun.check("/usr/sbin/userdel", ["--remove", "--force", name])
            throw FixtureError("useradd made no \(name)")
        }
        uid = entry.pointee.pw_uid
        gid = entry.pointee.pw_gid
        self.home = String(cString: entry.pointee.pw_dir)
        guard uid >= 1000 else { throw FixtureError("\(name) got uid \(uid), below suEXEC's minimum") }
        if let homeMode { chmod(self.home, homeMode) }
    }

    deinit { _ = try? ToolRun.check("/usr/sbin/userdel", ["--remove", "--force", name]) }

    /// Makes one, runs `body`, and removes it when `body` returns or throws.
    public static func with<T>(shell: String = "/usr/sbin/nologin", homeMode: mode_t? = nil,
                               _ body: (ThrowawayUser) throws -> T) throws -> T {
        let user = try ThrowawayUser(shell: shell, homeMode: homeMode)
        return try withExtendedLifetime(user) { try body(user) }
    }

    /// What runs a program as this user, leaving its environment (and `$HOME`) alone.
    public var launcher: [String] { ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "--"] }

    /// Runs a program as the user (`runuser`), with a plain environment.
    public func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try ToolRun.run("/usr/sbin/runuser", ["-u", name, "--", executable] + arguments,
                        environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"])
    }

    /// Writes `text` at `relative` (under the home) with `mode`, its directories 0755, all the
    /// user's: suEXEC and pixelhook's config check refuse files of another owner.
    public func write(_ relative: String, _ text: String, mode: mode_t = 0o600) throws {
        try install(relative, mode: mode) { try text.write(toFile: $0, atomically: false, encoding: .utf8) }
    }

    public func copy(_ source: String, to relative: String, mode: mode_t) throws {
        try install(relative, mode: mode) { try FileManager.default.copyItem(atPath: source, toPath: $0) }
    }

    public func makeDirectory(_ relative: String) throws {
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
}
