import Foundation

/// Runs a short-lived program to its end with exactly `environment`, stdin on /dev/null, and
/// stdout and stderr together: what the fixtures' helpers need from `pixelhook simulate`,
/// `pixelhook retry` or `mount`, `mkfs`.
public enum ToolRun {
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// Runs a system tool (mount, mkfs) with a plain PATH; throws, with its output, unless it
    /// exits 0.
    @discardableResult
    public static func check(_ tool: String, _ arguments: [String]) throws -> String {
        let (status, text) = try run(tool, arguments, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"])
        guard status == 0 else { throw Failed(description: "\(tool) \(arguments.joined(separator: " ")) failed (\(status)): \(text)") }
        return text
    }

    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }
}
