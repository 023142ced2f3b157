import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `pixelhook` executable built together with the running tests, for the fixtures that run
/// it as a process (commands, clients, web servers).
public enum BuiltBinary {
    /// Beside the running test bundle, which `swift test --scratch-path X` puts in `X/debug`;
    /// else `.build/debug/pixelhook`.
    public static let path: String = {
        let fallback = packageRoot + "/.build/debug/pixelhook"
        guard let runner = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return fallback }
        var directory = URL(fileURLWithPath: runner).deletingLastPathComponent()
        // The runner may sit inside the .xctest bundle on some toolchains.
        while directory.path.contains(".xctest") { directory = directory.deletingLastPathComponent() }
        let candidate = directory.path + "/pixelhook"
        return access(candidate, X_OK) == 0 ? candidate : fallback
    }()

    /// The package's root directory (this file is `Tests/PixelhookTestSupport/BuiltBinary.swift`).
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}
