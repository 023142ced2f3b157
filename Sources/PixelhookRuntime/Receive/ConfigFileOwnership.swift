#if canImport(Glibc)
import Glibc
#endif

/// Who may change or read the config file. It names the handlers directory, so whoever can
/// write it chooses what runs as us: like sshd's `StrictModes`, a regular file that someone
/// other than its reader or root owns, or that group or others may write, is refused. It may
/// hold `PIXELHOOK_TOKEN`, so `pixelhook check` also says when every user can read it.
public enum ConfigFileOwnership {
    /// Why the open file must not be used, or nil. Pipes and devices (`--config <(...)`) are
    /// the caller's own doing and pass.
    public static func problem(_ fd: Int32, path: String) -> String? {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        let me = geteuid()
        if info.st_uid != me && info.st_uid != 0 {
            return "config file \(path) belongs to uid \(info.st_uid), not to this user (uid \(me)) or root: "
                + "whoever owns it chooses what runs; chown it or use a file of your own"
        }
        if info.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            return "config file \(path) may be changed by other users (mode \(octal(info.st_mode))): "
                + "whoever can write it chooses what runs; chmod go-w \(path)"
        }
        return nil
    }

    /// Whether every user of the host may read the file at `path`.
    public static func isWorldReadable(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && info.st_mode & S_IROTH != 0
    }

    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
