#if canImport(Glibc)
import Glibc
#endif

/// SPEC "Who runs what": a command root starts on a spool another user owns becomes that user
/// (groups, gid, uid, in that order) before it touches the spool or runs a handler, so no
/// handler runs as root by accident and no file root owns is left in the spool, where the web
/// server's user could no longer change it. A spool root owns is root's explicit choice.
public enum SpoolOwner {
    /// Why the switch could not be made; `user` is whom to run the command as instead.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let spool: String
        public let user: String
        public let reason: String

        /// One line; `rerun` is the command as the operator should type it, without `sudo`.
        public func line(rerun: String) -> String {
            "the spool \(spool) belongs to \(user), and \(reason); run it as that user: sudo -u \(user) \(rerun)"
        }

        public var description: String { line(rerun: "pixelhook") }
    }

    /// When this process runs as root and `spool` exists and belongs to another user, becomes
    /// that user for good and returns whom; otherwise changes nothing and returns nil.
    @discardableResult
    public static func become(ownerOf spool: String, passwdFile: String = "/etc/passwd",
                              groupFile: String = "/etc/group") throws(Refusal) -> UserAccount? {
        guard geteuid() == 0 else { return nil }
        var info = stat()
        guard stat(spool, &info) == 0, info.st_uid != 0 else { return nil }
        guard let owner = UserAccount.find(uid: info.st_uid, passwdFile: passwdFile) else {
            throw Refusal(spool: spool, user: "#\(info.st_uid)",
                          reason: "uid \(info.st_uid) is not in \(passwdFile), so its groups are unknown")
        }
        let groups = owner.groups(groupFile: groupFile)
        func fail(_ call: String) -> Refusal {
            let error = String(cString: strerror(errno))
            return Refusal(spool: spool, user: owner.name, reason: "root cannot become it (\(call): \(error))")
        }
        guard groups.withUnsafeBufferPointer({ setgroups($0.count, $0.baseAddress) }) == 0 else { throw fail("setgroups") }
        guard setgid(owner.gid) == 0 else { throw fail("setgid") }
        guard setuid(owner.uid) == 0 else { throw fail("setuid") }
        // Gone for good: a saved set-user-ID of 0 would let it come back. The caller stops
        // on a refusal, before anything runs.
        guard setuid(0) != 0, getuid() == owner.uid, geteuid() == owner.uid,
              getgid() == owner.gid, getegid() == owner.gid else {
            throw Refusal(spool: spool, user: owner.name, reason: "root's rights did not stay dropped after switching")
        }
        return owner
    }
}
