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

    /// Scans the bytes in place with `memchr`, making strings of the matching line's fields
    /// only: this runs on every CGI start, where splitting into arrays cost 25 k instructions.
    static func find(uid: uid_t, in text: UnsafeBufferPointer<UInt8>) -> UserAccount? {
        guard let base = text.baseAddress else { return nil }
        let end = base + text.count
        let colon = Int32(UInt8(ascii: ":")), newline = Int32(UInt8(ascii: "\n"))
        func next(_ byte: Int32, from: UnsafePointer<UInt8>, before limit: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
            guard from < limit, let found = memchr(from, byte, limit - from) else { return nil }
            return UnsafePointer(found.assumingMemoryBound(to: UInt8.self))
        }
        var line = base
        while line < end {
            let lineEnd = next(newline, from: line, before: end) ?? end
            // name:password:uid:gid:gecos:home:shell
            if let nameEnd = next(colon, from: line, before: lineEnd),
               let passwordEnd = next(colon, from: nameEnd + 1, before: lineEnd),
               let uidEnd = next(colon, from: passwordEnd + 1, before: lineEnd),
               UserAccount.number(passwordEnd + 1, uidEnd) == UInt64(uid),
               let gidEnd = next(colon, from: uidEnd + 1, before: lineEnd),
               let gid = UserAccount.number(uidEnd + 1, gidEnd).flatMap({ gid_t(exactly: $0) }),
               let gecosEnd = next(colon, from: gidEnd + 1, before: lineEnd) {
                let homeEnd = next(colon, from: gecosEnd + 1, before: lineEnd) ?? lineEnd
                func text(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> String {
                    String(decoding: UnsafeBufferPointer(start: start, count: end - start), as: UTF8.self)
                }
                return UserAccount(name: text(line, nameEnd), uid: uid, gid: gid, home: text(gecosEnd + 1, homeEnd))
            }
            line = lineEnd + 1
        }
        return nil
    }

    /// The decimal number from `start` up to `end`, or nil if those are not all digits.
    private static func number(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> UInt64? {
        guard start < end, end - start <= 10 else { return nil }
        var value: UInt64 = 0
        var digit = start
        while digit < end {
            guard digit.pointee >= UInt8(ascii: "0"), digit.pointee <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(digit.pointee - UInt8(ascii: "0"))
            digit += 1
        }
        return value
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
