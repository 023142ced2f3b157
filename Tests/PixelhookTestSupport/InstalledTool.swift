import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a system program the tests drive is installed (nginx, fcgiwrap, curl, python3, …).
public enum InstalledTool {
    /// The system directories first, the test runner's PATH last (where a version manager's shim,
    /// which needs the runner's environment, must not win). Missing is a failure, never a skip.
    public static func path(_ name: String) throws -> String {
        let system = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        let runner = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in system + runner where access(directory + "/" + name, X_OK) == 0 {
            return directory + "/" + name
        }
        throw FixtureError("\(name) is not installed (looked in the system directories and PATH): apt-get install \(name); CI installs it")
    }
}
