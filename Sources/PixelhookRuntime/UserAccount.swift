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
        return bytes.withUnsafeBufferPointer { find(uid: uid, in: $0) }
    }

    /// Scans the bytes in place and splits only the matching line: this runs on every CGI
    /// start, and splitting every line into arrays was most of its cost.
    static func find(uid: uid_t, in text: UnsafeBufferPointer<UInt8>) -> UserAccount? {
        let wanted = Array(String(uid).utf8)
        let colon = UInt8(ascii: ":"), newline = UInt8(ascii: "\n")
        var start = 0
        while start < text.count {
            let end = text[start...].firstIndex(of: newline) ?? text.count
            // name:password:uid:gid:gecos:home:shell
            if let nameEnd = text[start..<end].firstIndex(of: colon),
               let passwordEnd = text[(nameEnd + 1)..<end].firstIndex(of: colon),
               let uidEnd = text[(passwordEnd + 1)..<end].firstIndex(of: colon),
               text[(passwordEnd + 1)..<uidEnd].elementsEqual(wanted) {
                let fields = text[start..<end].split(separator: colon, maxSplits: 6, omittingEmptySubsequences: false)
                if fields.count >= 6, let gid = gid_t(String(decoding: fields[3], as: UTF8.self)) {
                    return UserAccount(name: String(decoding: fields[0], as: UTF8.self), uid: uid, gid: gid,
                                       home: String(decoding: fields[5], as: UTF8.self))
                }
            }
            start = end + 1
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
