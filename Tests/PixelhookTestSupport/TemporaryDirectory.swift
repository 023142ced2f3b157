import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A directory of its own for one test (`mkdtemp` under /tmp), removed with its contents when
/// the test lets go of it.
public final class TemporaryDirectory {
    public let path: String

    /// - Parameter prefix: the name's start, so a leftover says which suite made it.
    public init(prefix: String) throws {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw FixtureError("cannot create a temporary directory: \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    /// Removes it now rather than at `deinit` (retried: a handler may still write there for an
    /// instant after the test stopped it).
    public func remove() {
        for _ in 1...5 {
            guard (try? FileManager.default.removeItem(atPath: path)) == nil,
                  FileManager.default.fileExists(atPath: path) else { return }
            usleep(100_000)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func write(_ name: String, _ text: String, mode: mode_t = 0o644) throws {
        try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
        chmod(path + "/" + name, mode)
    }

    public func read(_ name: String) -> String? {
        try? String(contentsOfFile: path + "/" + name, encoding: .utf8)
    }

    /// The file's non-empty lines; none when it does not exist.
    public func lines(_ name: String) -> [String] {
        (read(name) ?? "").split(separator: "\n").map(String.init)
    }
}
