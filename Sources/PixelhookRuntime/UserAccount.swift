#if canImport(Glibc)
import Glibc
#endif

/// A user of this host as `/etc/passwd` lists it: whose home holds the config file, and whom a
/// command started by root becomes (`SpoolOwner`).
///
/// Read from the files, not through `getpwuid`/`initgroups`: the shipped binary is static, and
/// glibc's NSS then `dlopen`s the modules `nsswitch.conf` names (`systemd` on Debian 12), which
/// crashes a static program (a static C `getgrouplist` segfaults here). The files are also the
/// cheaper read on the CGI start. Users only a directory service knows (LDAP) are not found:
/// their config file is `/etc/pixelhook/pixelhook.conf` or `PIXELHOOK_CONFIG`.
public struct UserAccount: Sendable, Equatable {
    public let name: String
    public let uid: uid_t
    public let gid: gid_t
    public let home: String

    public init(name: String, uid: uid_t, gid: gid_t, home: String) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
    }

    /// The entry for `uid` in the passwd file, or nil (no such line, file unreadable).
    public static func find(uid: uid_t, passwdFile: String = "/etc/passwd") -> UserAccount? {
        guard let bytes = try? FileContents.read(passwdFile, limit: 16 << 20) else { return nil }
        let wanted = Array(String(uid).utf8)
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            // name:password:uid:gid:gecos:home:shell
            let fields = line.split(separator: UInt8(ascii: ":"), maxSplits: 6, omittingEmptySubsequences: false)
            guard fields.count >= 6, fields[2].elementsEqual(wanted),
                  let gid = gid_t(String(decoding: fields[3], as: UTF8.self)) else { continue }
            return UserAccount(name: String(decoding: fields[0], as: UTF8.self), uid: uid, gid: gid,
                               home: String(decoding: fields[5], as: UTF8.self))
        }
        return nil
    }

    /// The effective user's entry when the process started, looked up once (a FastCGI
    /// responder asks for every request).
    public static let effective: UserAccount? = find(uid: geteuid())

    /// The primary group and every group of the group file that lists this user as a member:
    /// what `initgroups` would set, from the file.
    public func groups(groupFile: String = "/etc/group") -> [gid_t] {
        var groups = [gid]
        guard let bytes = try? FileContents.read(groupFile, limit: 16 << 20) else { return groups }
        let me = Array(name.utf8)
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            // name:password:gid:member,member
            let fields = line.split(separator: UInt8(ascii: ":"), maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4, let group = gid_t(String(decoding: fields[2], as: UTF8.self)),
                  fields[3].split(separator: UInt8(ascii: ",")).contains(where: { $0.elementsEqual(me) }),
                  !groups.contains(group) else { continue }
            groups.append(group)
        }
        return groups
    }
}
