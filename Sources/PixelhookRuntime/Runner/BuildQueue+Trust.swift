#if canImport(Glibc)
import Glibc
#endif

/// A build directory another user owns or may write to is skipped, never run: its payloads
/// could be planted (`SpoolTrust`). Skipped with a loud line rather than refusing the whole
/// spool, so one bad entry does not stop every other build; the entry stays on disk for the
/// operator, and `retry` runs it once it is fixed.
extension BuildQueue {
    /// The build directory or its project directory, if either is not trusted, and why.
    func untrustedDirectory() -> (path: String, why: String)? {
        let project = String(directory[..<(directory.lastIndex(of: "/") ?? directory.endIndex)])
        for path in [directory, project] {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            if let why = SpoolTrust.problem(path, info) { return (path, why) }
        }
        return nil
    }

    /// True when the build may be read and run; otherwise says why on stderr.
    func isTrusted() -> Bool {
        guard let (path, why) = untrustedDirectory() else { return true }
        SpoolTrust.warnSkipped(path, why)
        return false
    }
}
