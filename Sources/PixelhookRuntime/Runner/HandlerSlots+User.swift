#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// The handler slots of `PIXELHOOK_MAX_HANDLERS`: one directory per user on the host, shared by
/// every spool, gateway and process of that user, so the cap holds across all of them.
///
/// `/dev/shm` because it is a tmpfs every service of the host sees alike: systemd's
/// `PrivateTmp=` (Debian's apache2.service has it) gives a service its own `/tmp`, which would
/// split the slots of Apache's CGI runs from the FastCGI responder's; `ProtectSystem=strict`
/// leaves `/dev` writable where `/run/lock` would not be. Users do not share slots: a neighbour
/// could otherwise hold every one of them.
extension HandlerSlots {
    /// Where the slots live unless a test says otherwise.
    public static let userBase = "/dev/shm"

    /// The user's slot directory under `base`.
    public static func userDirectory(under base: String = userBase) -> String {
        "\(base)/pixelhook-\(geteuid())"
    }

    /// Why handlers must not run from the slot directory.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The user's handler slots, the directory created `0700` on first use. Refused when the
    /// directory there is not one this user owns alone (another owner, writable by group or
    /// others, a symbolic link): whoever planted it could hold every slot.
    public static func user(count: Int, under base: String = userBase) throws(Refusal) -> HandlerSlots {
        let directory = userDirectory(under: base)
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            throw Refusal(description: "cannot create the handler slots directory \(directory): \(Errno(rawValue: errno))")
        }
        if let problem = problem(directory) { throw Refusal(description: problem) }
        return HandlerSlots(directory: directory, count: count)
    }

    /// What is wrong with the user's slot directory as it is now (nil: fine, or not there yet,
    /// to be created on first use): for `check`, which looks without creating.
    public static func userDirectoryProblem(under base: String = userBase) -> String? {
        let directory = userDirectory(under: base)
        var info = stat()
        if lstat(directory, &info) != 0, errno == ENOENT { return nil }
        return problem(directory)
    }

    private static func problem(_ directory: String) -> String? {
        var info = stat()
        guard lstat(directory, &info) == 0 else {
            return "cannot read the handler slots directory \(directory): \(Errno(rawValue: errno))"
        }
        let refusing = "refusing to run handlers with the slots in \(directory)"
        guard info.st_mode & S_IFMT == S_IFDIR else { return "\(refusing): not a directory (remove it)" }
        guard info.st_uid == geteuid() else {
            return "\(refusing): owned by uid \(info.st_uid), not this user (\(geteuid()))"
        }
        guard info.st_mode & 0o022 == 0 else {
            return "\(refusing): writable by group or others (chmod 700 \(directory))"
        }
        return nil
    }
}
