import Foundation

/// Runs a short-lived program to its end with exactly `environment`, stdin on /dev/null, and
/// stdout and stderr together: what the fixtures' helpers need from `pixelhook simulate`,
/// `pixelhook retry` or `mount`, `mkfs`.
public enum ToolRun {
    /// Its exit code (the signal's number if a signal ended it) and its output.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String) {
        // No deadline of its own: as long as the tool takes (apt-get), as `Process` waited.
        let outcome = try ChildProcess.run(executable, arguments, environment: environment, separateStderr: false, timeout: 3600)
        return (outcome.exitCode ?? outcome.signal ?? -1, outcome.stdout)
    }

    /// Runs a system tool (mount, mkfs) with a plain PATH; throws, with its output, unless it
    /// exits 0.
    @discardableResult
    public static func check(_ tool: String, _ arguments: [String]) throws -> String {
        let (status, text) = try run(tool, arguments, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"])
        guard status == 0 else { throw FixtureError("\(tool) \(arguments.joined(separator: " ")) failed (\(status)): \(text)") }
        return text
    }
}
