import Testing
@testable import PixelhookCore

/// Found by the fuzz target: lists were split on `Character`s, and a comma followed by a
/// combining mark is one `Character`, so `a,\u{301}b` was one item. Written back by
/// `Settings.variables` (what pixelhook hands to the processes it starts), `x, \u{5A0}y`
/// came out as `x,\u{5A0}y` and was read there as one project instead of two.
@Suite("Settings list splitting")
struct SettingsListSplittingTests {
    static let combining = ["a,\u{301}b", "x, \u{5A0} N", "p,\u{20DD}", ",\u{301}"]

    @Test("every comma separates list items, whatever follows it", arguments: combining)
    func commaBeforeCombiningMark(list: String) throws {
        let expected = list.unicodeScalars.split(separator: ",").map { String(String.UnicodeScalarView($0)).trimmingWhitespace() }
            .filter { !$0.isEmpty }
        let settings = try Settings.parse([Settings.Key.projectIDs: list, Settings.Key.events: list])
        #expect(settings.projectIDs.map { $0.count } == expected.count)
        #expect(settings.events.map { $0.count } == expected.count)
        #expect(Settings.firstProjectID(in: [Settings.Key.projectIDs: list]) == expected.first)
    }

    @Test("settings written back as variables read back the same", arguments: combining)
    func roundTrip(list: String) throws {
        let settings = try Settings.parse([Settings.Key.projectIDs: list, Settings.Key.events: list])
        #expect(try Settings.parse(settings.variables) == settings)
    }
}
