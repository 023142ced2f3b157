import Testing

/// SPEC "Commands": a command that reads the spool and finds none says so with the path and
/// where to point it, exit 74; never "no builds" (or silence) for a spool that does not exist.
@Suite struct MissingSpoolTests {
    static let commands: [[String]] = [["builds"], ["builds", "--json"], ["retry"], ["retry", "--dry-run"],
                                       ["replay", "u1"], ["gc", "--older-than", "7d"], ["metrics"]]

    @Test(arguments: commands) func saysWhereItLookedAndExits74(arguments: [String]) throws {
        let fixture = try CommandFixture()
        let outcome = try fixture.run(arguments)
        #expect(outcome.status == 74, "\(outcome)")
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr == "pixelhook: no spool at \(fixture.spool) (no directory there: nothing stored yet, or the web server's spool is elsewhere); set PIXELHOOK_SPOOL in the environment, or name a config file with --config or PIXELHOOK_CONFIG\n")
        #expect(!fixture.exists("spool"), "nothing created")
    }

    /// Without a config file named, the line lists the files it looked for.
    @Test func namesTheConfigFilesItLookedFor() throws {
        let fixture = try CommandFixture()
        fixture.settings["PIXELHOOK_CONFIG"] = nil
        let outcome = try fixture.run(["builds"])
        #expect(outcome.status == 74, "\(outcome)")
        #expect(outcome.stderr.contains("/etc/pixelhook/pixelhook.conf"), "\(outcome)")
    }
}
