import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `pixelhook check`, run as a process against real directories.
@Suite struct CheckCommandTests {
    static func goodFixture() throws -> CommandFixture {
        let fixture = try CommandFixture()
        fixture.settings["PIXELHOOK_TOKEN"] = "s3cret"  // none is a problem of its own (`CheckWarningsTests`)
        try fixture.handler("build.approved", "exit 0")
        try fixture.handler("default", "exit 0")
        try "SLACK_WEBHOOK=x\n".write(toFile: fixture.handlers + "/handlers.env", atomically: true, encoding: .utf8)
        return fixture
    }

    @Test func aGoodSetupIsOK() throws {
        let fixture = try Self.goodFixture()
        let checked = try fixture.run(["check"])
        #expect(checked.status == 0, "\(checked)")
        #expect(checked.stdout == "ok: no config file (PIXELHOOK_CONFIG is empty); 1 project; spool \(fixture.spool) will be created on first use; handlers in \(fixture.handlers): build.approved, default\n")
        #expect(!fixture.exists("spool"), "check changes nothing")
        try FileManager.default.createDirectory(atPath: fixture.spool, withIntermediateDirectories: false)
        #expect(try fixture.run(["check"]).stdout.contains("spool \(fixture.spool) writable"))
    }

    @Test func aNonExecutableHandlerIsNamed() throws {
        let fixture = try Self.goodFixture()
        try fixture.handler("build.rejected", "exit 0", mode: 0o644)
        let checked = try fixture.run(["check"])
        #expect(checked.status == 1)
        #expect(checked.stdout == "problem: \(fixture.handlers)/build.rejected is not executable: its deliveries fail (chmod +x \(fixture.handlers)/build.rejected)\n")
    }

    @Test func aDirectoryHandlerIsNamed() throws {
        let fixture = try Self.goodFixture()
        try FileManager.default.createDirectory(atPath: fixture.handlers + "/build.saving", withIntermediateDirectories: false)
        let checked = try fixture.run(["check"])
        #expect(checked.status == 1)
        #expect(checked.stdout == "problem: \(fixture.handlers)/build.saving is a directory, not a program: its deliveries fail\n")
    }

    @Test func aMisspeltHandlerIsFlagged() throws {
        let fixture = try Self.goodFixture()
        try fixture.handler("build.aproved", "exit 0")
        let checked = try fixture.run(["check"])
        #expect(checked.status == 1)
        #expect(checked.stdout == "problem: \(fixture.handlers)/build.aproved is never run: build.aproved is not an event pixelhook knows (did you mean build.approved?)\n")
    }

    @Test func unsetProjectIDsIsAProblem() throws {
        let fixture = try Self.goodFixture()
        fixture.settings["PIXELHOOK_PROJECT_IDS"] = nil
        let checked = try fixture.run(["check"])
        #expect(checked.status == 1)
        #expect(checked.stdout == "problem: PIXELHOOK_PROJECT_IDS is not set: every POST is refused (500) until it lists your projectIds\n")
    }

    @Test func invalidSettingsAMissingHandlersDirectoryAndATypoInTheEventFilter() throws {
        let fixture = try Self.goodFixture()
        let invalid = try fixture.run(["check"], environment: ["PIXELHOOK_STALLED_AFTER": "soon"])
        #expect(invalid.status == 1)
        #expect(invalid.stdout == "problem: settings: PIXELHOOK_STALLED_AFTER must be a duration like 90s, 30m, 12h or 7d, got soon\n")

        let missing = try fixture.run(["check"], environment: ["PIXELHOOK_HANDLERS": fixture.directory + "/nowhere",
                                                             "PIXELHOOK_EVENTS": "build.approved,build.rejectd"])
        #expect(missing.status == 1)
        #expect(missing.stdout == """
            problem: PIXELHOOK_EVENTS names build.rejectd, not an event pixelhook knows (did you mean build.rejected?)
            problem: handlers directory \(fixture.directory)/nowhere does not exist

            """)
    }

    @Test func aSpoolThatCannotBeWrittenIsAProblem() throws {
        let fixture = try Self.goodFixture()
        // A file where the spool's parent should be: nothing can be created below it.
        FileManager.default.createFile(atPath: fixture.directory + "/file", contents: nil)
        let checked = try fixture.run(["check"], environment: ["PIXELHOOK_SPOOL": fixture.directory + "/file/spool"])
        #expect(checked.status == 1)
        #expect(checked.stdout.hasPrefix("problem: spool \(fixture.directory)/file/spool "), "\(checked)")
    }

    @Test func aConfigFileIsRead() throws {
        let fixture = try Self.goodFixture()
        let config = fixture.directory + "/pixelhook.conf"
        try "PIXELHOOK_PROJECT_IDS=a,b\n".write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o600)  // the token (from the environment here) must not be readable by all
        fixture.settings["PIXELHOOK_PROJECT_IDS"] = nil
        let checked = try fixture.run(["check", "--config", config])
        #expect(checked.status == 0, "\(checked)")
        #expect(checked.stdout.hasPrefix("ok: config file \(config); 2 projects;"), "\(checked)")
    }
}
