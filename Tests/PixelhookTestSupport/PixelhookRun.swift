import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one way the tests run the built `pixelhook` (`BuiltBinary`) as a process: as an
/// operator runs a command, or as a web server's CGI would, through `ChildProcess`.
public enum PixelhookRun {
    /// The built binary, or a failure that says how to build it (never a skip).
    public static func binary() throws -> String {
        let path = BuiltBinary.path
        guard access(path, X_OK) == 0 else {
            throw FixtureError("the pixelhook binary is missing at \(path): build it first (swift build --build-tests), then run swift test --skip-build")
        }
        return path
    }

    /// A hard link to the built binary in `directory` when possible, so that a concurrent
    /// rebuild cannot swap it out mid-test and the test's processes can be told from others'
    /// by their executable; the built binary itself where a link is not possible.
    public static func link(into directory: String) throws -> String {
        let built = try binary()
        let linked = directory + "/pixelhook"
        return Glibc.link(built, linked) == 0 ? linked : built
    }

    /// Starts `pixelhook ARGUMENTS` with exactly `environment`. `launcher` runs it through
    /// another program (`["/usr/bin/setpriv", "--reuid=..."]`); `binary` is the built one by
    /// default.
    public static func start(_ arguments: [String], binary: String? = nil, environment: [String: String] = ChildProcess.plainEnvironment,
                             launcher: [String] = [], stdin: String = "/dev/null", stdout: String = "/dev/null",
                             stderr: String? = nil) throws -> ChildProcess {
        let program = try binary ?? self.binary()
        let command = launcher + [program] + arguments
        return try ChildProcess(command[0], Array(command.dropFirst()), environment: environment,
                                stdin: stdin, stdout: stdout, stderr: stderr)
    }

    /// Runs `pixelhook ARGUMENTS` to its end (killed after `timeout` seconds), stdin from the
    /// text given. `separateStderr: false` interleaves stderr into `stdout` as a terminal shows it.
    public static func run(_ arguments: [String], binary: String? = nil, environment: [String: String] = ChildProcess.plainEnvironment,
                           launcher: [String] = [], stdin: String? = nil, separateStderr: Bool = true,
                           timeout: Double = 60) throws -> ProcessOutcome {
        let command = launcher + [try binary ?? self.binary()] + arguments
        return try ChildProcess.run(command[0], Array(command.dropFirst()), environment: environment, stdin: stdin,
                                    separateStderr: separateStderr, timeout: timeout)
    }
}
