import Testing
@testable import PixelhookCore

@Suite("PIXELHOOK_STALLED_AFTER")
struct StalledAfterSettingTests {
    typealias Key = Settings.Key

    @Test("defaults to one hour")
    func defaultValue() throws {
        #expect(try Settings.parse([:]).stalledAfterSeconds == 3600)
        #expect(try Settings.parse([Key.stalledAfter: " "]).stalledAfterSeconds == 3600)
    }

    @Test("a duration is read", arguments: [("30m", 1800), ("2h", 7200), ("1d", 86_400), (" 90s\r\n", 90)])
    func read(text: String, seconds: Int) throws {
        #expect(try Settings.parse([Key.stalledAfter: text]).stalledAfterSeconds == seconds)
    }

    @Test("anything else is an error naming the variable and the value", arguments: ["30", "abc", "0m", "-1h", "1.5h", "2 h"])
    func refused(text: String) throws {
        let error = try #require(Fixture.settingsError([Key.stalledAfter: text]))
        #expect(error.message == "PIXELHOOK_STALLED_AFTER must be a duration like 90s, 30m, 12h or 7d, got \(text)")
    }

    @Test("a known key: allowed in a config file, and handed on to processes pixelhook starts")
    func known() throws {
        #expect(Key.all.contains("PIXELHOOK_STALLED_AFTER"))
        #expect(try ConfigFile.parse("PIXELHOOK_STALLED_AFTER=2h") == [Key.stalledAfter: "2h"])
        let settings = try Settings.parse([Key.stalledAfter: "2h"])
        #expect(settings.variables[Key.stalledAfter] == "7200s")
        #expect(try Settings.parse(settings.variables) == settings)
    }
}
