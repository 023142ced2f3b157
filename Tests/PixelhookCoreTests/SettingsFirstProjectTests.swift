import Testing
@testable import PixelhookCore

/// `Settings.firstProjectID(in:)`: the project `pixelhook simulate` and `send` default to.
@Suite("Settings.firstProjectID")
struct SettingsFirstProjectTests {
    @Test("the first entry as written, trimmed, empty entries skipped", arguments: [
        ("p1", "p1"),
        ("zeta,alpha", "zeta"),
        (" , b ,a", "b"),
        ("\tc\t", "c"),
    ])
    func first(value: String, expected: String) {
        #expect(Settings.firstProjectID(in: [Settings.Key.projectIDs: value]) == expected)
    }

    @Test("unset, empty or only commas: none", arguments: ["", " ", ",", " , ,"])
    func none(value: String) {
        #expect(Settings.firstProjectID(in: [Settings.Key.projectIDs: value]) == nil)
        #expect(Settings.firstProjectID(in: [:]) == nil)
    }
}
