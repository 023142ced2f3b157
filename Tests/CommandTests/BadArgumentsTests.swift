import Foundation
import Testing

/// SPEC "Commands": bad input to any command is a clear one-line error and a non-zero exit,
/// never a crash.
@Suite struct BadArgumentsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        /// Words the one line must contain.
        let says: String
        let status: Int32
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(arguments: ["builds", "--bogus"], says: "Unknown option '--bogus'", status: 64),
        Case(arguments: ["builds", "--limit", "-1"], says: "--limit must be a whole number of at least 1, got -1", status: 64),
        Case(arguments: ["builds", "--limit", "0"], says: "--limit must be a whole number of at least 1, got 0", status: 64),
        Case(arguments: ["builds", "--limit", "many"], says: "'many' is invalid for '--limit <n>'", status: 64),
        Case(arguments: ["builds", "--project", ""], says: "--project must not be empty", status: 64),
        Case(arguments: ["retry", "--now"], says: "Unknown option '--now'", status: 64),
        Case(arguments: ["retry", "extra"], says: "Unexpected argument 'extra'", status: 64),
        Case(arguments: ["replay"], says: "Missing expected argument '<upload-id>'", status: 64),
        Case(arguments: ["replay", "u1", "--event"], says: "Missing value for '--event <event>'", status: 64),
        // No spool at all here (ReplayCommandTests has a spool without the upload: exit 1).
        Case(arguments: ["replay", "never-stored"], says: "no spool at ", status: 74),
        Case(arguments: ["check", "--verbose"], says: "Unknown option '--verbose'", status: 64),
        Case(arguments: ["gc"], says: "Missing expected argument '--older-than <duration>'", status: 64),
        Case(arguments: ["gc", "--older-than", "5x"], says: "--older-than must be a duration like 90s, 30m, 12h or 7d, got '5x'", status: 64),
        Case(arguments: ["gc", "--older-than", "0s"], says: "--older-than must be a duration", status: 64),
        Case(arguments: ["gc", "--older-than", "30"], says: "--older-than must be a duration", status: 64),
        Case(arguments: ["builds", "--config", "/nonexistent/pixelhook.conf"], says: "settings: cannot read config file /nonexistent/pixelhook.conf", status: 78),
        Case(arguments: ["nonsense"], says: "Unexpected argument 'nonsense'", status: 64),
    ]

    @Test(arguments: cases)
    func oneLineOnStderrAndANonZeroExit(_ bad: Case) throws {
        let fixture = try CommandFixture()
        let outcome = try fixture.run(bad.arguments)
        #expect(outcome.status == bad.status, "\(outcome)")
        #expect(outcome.stderrLines.count == 1, "\(outcome)")
        #expect(outcome.stderr.hasPrefix("pixelhook: "), "\(outcome)")
        #expect(outcome.stderr.contains(bad.says), "\(outcome)")
        #expect(!outcome.stderr.contains("Error("), "no Swift type dump: \(outcome)")
        #expect(outcome.stdout.isEmpty, "\(outcome)")
    }

    @Test(arguments: ["builds", "retry", "replay", "check", "gc"])
    func invalidSettingsAreOneLineAndExit78(command: String) throws {
        let fixture = try CommandFixture()
        let arguments = [command] + (command == "replay" ? ["u1"] : command == "gc" ? ["--older-than", "7d"] : [])
        let outcome = try fixture.run(arguments, environment: ["PIXELHOOK_MAX_HANDLERS": "lots"])
        if command == "check" {
            #expect(outcome.status == 1)
            #expect(outcome.stdout == "problem: settings: PIXELHOOK_MAX_HANDLERS must be a whole number from 1 to 256, got lots\n")
        } else {
            #expect(outcome.status == 78, "\(outcome)")
            #expect(outcome.stderr == "pixelhook: settings: PIXELHOOK_MAX_HANDLERS must be a whole number from 1 to 256, got lots\n")
        }
    }

    /// The runner a gateway starts (`run-queue --slot N`) skips argument parsing; its errors
    /// must still read as the parsed command's do.
    @Test(arguments: [["run-queue"], ["run-queue", "--slot", "0"]])
    func theRunnerSaysWhyItCannotRunOnTheFastPathToo(arguments: [String]) throws {
        let fixture = try CommandFixture()
        let outcome = try fixture.run(arguments, environment: ["PIXELHOOK_MAX_HANDLERS": "lots"])
        #expect(outcome.status == 64, "\(outcome)")
        #expect(outcome.stderr == "pixelhook: PIXELHOOK_MAX_HANDLERS must be a whole number from 1 to 256, got lots (see 'pixelhook --help')\n", "\(outcome)")
    }

    @Test(arguments: ["builds", "retry", "replay", "check", "gc"])
    func helpIsForAnOperator(command: String) throws {
        let fixture = try CommandFixture()
        let outcome = try fixture.run([command, "--help"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.contains("Exit status:"))
        #expect(outcome.stdout.contains("--config <file>"))
        #expect(outcome.stderr.isEmpty)
    }
}
