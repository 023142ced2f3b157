import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The handlers the tests write: a `/bin/sh` script, executable.
public enum ShellScript {
    /// Writes `#!/bin/sh`, `body` and a final newline at `path` (replacing it whole), with `mode`.
    public static func write(_ body: String, to path: String, mode: mode_t = 0o755) throws {
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        guard chmod(path, mode) == 0 else { throw FixtureError("chmod \(path): \(String(cString: strerror(errno)))") }
    }
}
