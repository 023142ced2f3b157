#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import PixelhookRuntime

/// The settings one FastCGI worker parsed last, by the per-request `PIXELHOOK_*` parameters
/// and the config file they came from. nginx sends the same `fastcgi_param`s with every
/// request of a location, and merging and parsing them again was a fifth of a duplicate
/// request's work. Configuration only, never request state. The config file (named or found,
/// `ConfigSource`) may be edited or appear between requests: it is looked for each time and
/// the memo holds only while it is the same file, unchanged.
package struct SettingsMemo {
    private var overrides: [String: String]?
    private var source: ConfigSource?
    private var stamp: FileStamp?
    private var settings: Result<Settings, SettingsError>?

    package mutating func settings(environment: [String: String], overrides: [String: String]) -> Result<Settings, SettingsError> {
        let source = SettingsLoader.source(environment: environment, overrides: overrides)
        let stamp = source.path.flatMap(FileStamp.init(path:))
        if let settings, overrides == self.overrides, source == self.source, stamp == self.stamp { return settings }
        let loaded = SettingsLoader.load(environment: environment, overrides: overrides, source: source)
        // A pipe or device (or a file gone) has no stamp that says it is unchanged.
        let memorable = source.path == nil || stamp != nil
        self.overrides = memorable ? overrides : nil
        self.source = source
        self.stamp = stamp
        self.settings = memorable ? loaded : nil
        return loaded
    }

    /// What changes when a regular file is replaced or written.
    package struct FileStamp: Equatable {
        let device: UInt64, inode: UInt64, size: Int64
        let modified: timespec, changed: timespec

        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = info.st_mtim
            changed = info.st_ctim
        }

        package static func == (a: FileStamp, b: FileStamp) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size
                && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
                && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
        }
    }
}
