import Testing
@testable import PixelhookCore

/// `ConfigFile.settingLines` splits the bytes (fast) exactly as `Character`s split them.
@Suite struct ConfigFileLinesTests {
    @Test(arguments: [
        "", "\n", "A=1", "A=1\nB=2\n", "# c\r\nA=1\r\n\r\nB=2", "A=1\rB=2\r\r\nC=3", "\n\r\n\rA=1",
        "  # indented\n\t#tab\nA=1 # trailing\n  \t \nB=é\n", "A=1\u{2028}B=2", "A=1\u{0B}B=2\u{0C}C=3\u{85}D=4",
    ])
    func sameLinesAsSplittingCharacters(text: String) {
        let slow = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
            .filter { let line = String($0.element).trimmingWhitespace(); return !line.isEmpty && !line.hasPrefix("#") }
            .map { "\($0.offset + 1):\($0.element)" }
        let fast = ConfigFile.settingLines(text).map { "\($0.number):\($0.text)" }
        #expect(fast == slow)
    }

    @Test func anErrorNamesTheLineAcrossMixedLineBreaks() {
        #expect(throws: SettingsError("config line 4: expected KEY=VALUE")) {
            try ConfigFile.parse("# a\r\nPIXELHOOK_SPOOL=/s\rPIXELHOOK_EVENTS=x\nnonsense\n")
        }
    }
}
