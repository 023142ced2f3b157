import Testing

@Suite struct VersionTests {
    /// One line, `pixelhook VERSION`: scripts/package.sh names the release artifacts after it.
    @Test func versionIsOneLine() throws {
        let outcome = try CommandFixture().run(["--version"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.wholeMatch(of: /pixelhook \d+\.\d+\.\d+\n/) != nil, "\(outcome)")
    }
}
