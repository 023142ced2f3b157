import Foundation
import PixelhookTestSupport

/// A user made for one test with `useradd` (its home where the test says, so the password
/// database, not `$HOME`, is what points there) and removed with its home by `userdel -r` when
/// the test ends, pass or fail.
final class ThrowawayUser {
    let name: String
    let home: String
    let uid: UInt32
    let gid: UInt32

    init(home: String) throws {
        name = "phtest\(getpid() % 10000)\(UInt32.random(in: 1000...9999))"
        self.home = home
        try ToolRun.check("/usr/sbin/useradd", ["--create-home", "--home-dir", home, "--shell", "/usr/sbin/nologin", "--user-group", name])
        let ids = try ToolRun.check("/usr/bin/id", [name]) // uid=1001(x) gid=1001(x) ...
        func number(after key: String) -> UInt32 {
            let rest = ids.components(separatedBy: key).dropFirst().first ?? ""
            return UInt32(rest.prefix { $0.isNumber }) ?? 0
        }
        uid = number(after: "uid=")
        gid = number(after: "gid=")
    }

    deinit { _ = try? ToolRun.check("/usr/sbin/userdel", ["--remove", name]) }

    /// What runs the built binary as this user, leaving its environment (and `$HOME`) alone.
    var launcher: [String] { ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "--"] }

    /// Writes a file of the user's, with `mode`, creating its directories as the user's.
    func write(_ relativePath: String, _ text: String, mode: Int = 0o600) throws {
        let path = home + "/" + relativePath
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        try ToolRun.check("/bin/chown", ["-R", "\(uid):\(gid)", home])
    }
}
