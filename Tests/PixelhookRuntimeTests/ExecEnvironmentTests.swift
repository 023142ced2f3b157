import Testing
@testable import PixelhookRuntime

/// Environment entries cut to what `execve` takes (`ExecEnvironment`).
@Suite struct ExecEnvironmentTests {
    @Test func shortValuesAreKeptWhole() {
        #expect(ExecEnvironment.entries(["B": "2", "A": "1"]) == ["A=1", "B=2"])
    }

    @Test func eachEntryFitsMaxArgStrlenCutOnACharacter() {
        let long = String(repeating: "\u{e9}", count: 100_000)  // 200,000 bytes
        let entries = ExecEnvironment.entries(["PIXELHOOK_OBJECTION": long, "PATH": "/bin"])
        #expect(entries.first == "PATH=/bin")
        let cut = entries[1]
        #expect(cut.utf8.count + 1 <= ExecEnvironment.maxEntryBytes)
        #expect(cut.utf8.count + 1 > ExecEnvironment.maxEntryBytes - 2, "no more than one character short")
        #expect(long.hasPrefix(cut.dropFirst("PIXELHOOK_OBJECTION=".count)))
    }

    @Test func theWholeEnvironmentStaysWithinItsBudgetLongValuesSharingIt() {
        let big = String(repeating: "x", count: 200_000)
        let environment = ["A": big, "B": big, "C": big, "SHORT": "kept"]
        let entries = ExecEnvironment.entries(environment, budget: 200_000)
        let total = entries.reduce(0) { $0 + $1.utf8.count + 1 + 8 }
        #expect(total <= 200_000)
        #expect(entries.contains("SHORT=kept"))
        let lengths = entries.filter { !$0.hasPrefix("SHORT") }.map(\.utf8.count)
        #expect(lengths.max()! - lengths.min()! <= 1, "shared alike: \(lengths)")
    }

    @Test func aCutNeverSplitsAMultiByteCharacter() {
        #expect(ExecEnvironment.prefix(of: "a\u{1F680}b", bytes: 4) == "a")
        #expect(ExecEnvironment.prefix(of: "a\u{1F680}b", bytes: 5) == "a\u{1F680}")
        #expect(ExecEnvironment.prefix(of: "abc", bytes: 3) == "abc")
        #expect(ExecEnvironment.prefix(of: "abc", bytes: 0) == "")
    }
}
