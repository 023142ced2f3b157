import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a program run to its end left: how it ended and what it wrote.
public struct ProcessOutcome: Sendable {
    /// The exit code; nil when a signal ended it (or it was killed at the deadline).
    public let exitCode: Int32?
    /// The signal that ended it, if one did.
    public let signal: Int32?
    /// Still running at the deadline, so killed.
    public let timedOut: Bool
    public let stdout: String
    /// Empty when stderr went with stdout.
    public let stderr: String
    /// Wall time from start to exit.
    public let seconds: Double
}

extension ChildProcess {
    /// Runs a program to its end, at most `timeout` seconds (then it is killed), with its stdin
    /// from `stdin` and its output in files of a temporary directory.
    /// - Parameter separateStderr: false writes stderr into `stdout`, in order.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = plainEnvironment,
                           stdin: String? = nil, directory: String? = nil, separateStderr: Bool = true,
                           timeout: Double = 60) throws -> ProcessOutcome {
        let files = try TemporaryDirectory(prefix: "pixelhook-run")
        try files.write("in", stdin ?? "")
        let started = Date()
        let process = try ChildProcess(executable, arguments, environment: environment, stdin: files.path + "/in",
                                       stdout: files.path + "/out", stderr: separateStderr ? files.path + "/err" : nil,
                                       directory: directory)
        return withExtendedLifetime(files) {  // its files are read before it goes
            process.finish(timeout: timeout, started: started, stdout: files.path + "/out", stderr: separateStderr ? files.path + "/err" : nil)
        }
    }

    /// Waits up to `timeout` seconds (then kills it) and reads the output files it was given.
    public func finish(timeout: Double, started: Date, stdout: String, stderr: String?) -> ProcessOutcome {
        reap(timeout: timeout)
        let timedOut = isRunning
        if timedOut { kill() }
        let read = { (path: String?) in path.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? "" }
        return ProcessOutcome(exitCode: exitCode, signal: terminatingSignal, timedOut: timedOut,
                              stdout: read(stdout), stderr: read(stderr), seconds: Date().timeIntervalSince(started))
    }
}
