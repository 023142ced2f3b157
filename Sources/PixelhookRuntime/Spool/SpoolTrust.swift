#if canImport(Glibc)
import Glibc
#endif

/// What sshd's StrictModes and cron do with their files, for the spool: a file or directory
/// pixelhook reads is trusted only if the user pixelhook runs as owns it and neither group nor
/// others may write to it. Otherwise another user could plant a delivery (and have its handler
/// run as us), rewrite a result, or read payloads.
///
/// The directories above the spool are not checked: whoever can replace the spool there can
/// only put a directory of their own in its place, which this refuses.
enum SpoolTrust {
    /// Why `info` (of `path`) is not trusted, with the fix; nil when it is.
    static func problem(_ path: String, _ info: stat, us: uid_t = geteuid()) -> String? {
        let mode = info.st_mode & 0o7777
        let foreign = info.st_uid != us
        let shared = mode & 0o022 != 0
        guard foreign || shared else { return nil }
        var faults: [String] = [], fixes: [String] = []
        if foreign {
            faults.append("owned by \(describe(info.st_uid)), not by \(describe(us)) (the user pixelhook runs as)")
            fixes.append("chown \(accountName(us)) \(path)")
        }
        if shared {
            faults.append("mode \(String(mode, radix: 8)) lets \(mode & 0o020 != 0 ? "its group" : "others")\(mode & 0o022 == 0o022 ? " and others" : "") write to it")
            fixes.append("chmod go-w \(path)")
        }
        return faults.joined(separator: " and ") + "; if that is not expected, find out who changed it, then: " + fixes.joined(separator: " && ")
    }

    /// Throws the refusal for `path` if it exists and is not trusted (one `stat`). `us` is
    /// asked for each time, not cached: a command may switch users before it reads the spool.
    static func check(_ path: String, us: uid_t = geteuid()) throws(StorageError) {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        if let why = problem(path, info, us: us) { throw StorageError.refused(path, why) }
    }

    /// Says on stderr that `path` was skipped: a command's stderr is the operator's terminal or
    /// cron's mail; a detached runner's is /dev/null, and `check` names the entry again.
    static func warnSkipped(_ path: String, _ why: String) {
        let line = Array("pixelhook: skipped \(path), not trusted: \(why)\n".utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// `www-data (uid 33)`, or `uid 1234` for a uid without an account.
    static func describe(_ uid: uid_t) -> String {
        let name = accountName(uid)
        return name == String(uid) ? "uid \(uid)" : "\(name) (uid \(uid))"
    }

    /// The account's name, or the bare uid (which chown takes too).
    static func accountName(_ uid: uid_t) -> String {
        var entry = passwd(), result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 1024)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name
        else { return String(uid) }
        return String(cString: name)
    }
}
