#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// The names in a directory, without `.` and `..`, sorted.
enum DirectoryListing {
    /// Throws `ENOENT` for a missing directory like any other error; callers decide.
    static func names(_ path: String) throws(Errno) -> [String] {
        guard let entries = opendir(path) else { throw Errno(rawValue: errno) }
        defer { closedir(entries) }
        var names: [String] = []
        while let entry = readdir(entries) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// `stat(2)`, or nil.
    static func status(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    static func isDirectory(_ path: String) -> Bool {
        status(path).map { $0.st_mode & S_IFMT == S_IFDIR } ?? false
    }

    /// mtime in milliseconds since the epoch.
    static func modified(_ info: stat) -> Int {
        info.st_mtim.tv_sec * 1000 + info.st_mtim.tv_nsec / 1_000_000
    }
}
