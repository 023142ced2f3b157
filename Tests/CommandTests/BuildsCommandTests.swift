import Foundation
import PixelhookTestSupport
import Testing
import PixelhookCore
import PixelhookRuntime

/// `pixelhook builds`, run as a process against a real spool.
@Suite struct BuildsCommandTests {
    @Test func tableAndJSONFromTheSpool() throws {
        let fixture = try CommandFixture()
        try fixture.handler("build.downloading", "exit 3")
        for event in ["build.uploaded", "build.downloading"] {
            _ = try fixture.run(["handle"], stdin: CommandFixture.payload(event: event, uploadId: "u1"))
        }
        try fixture.store(event: "build.approved", uploadId: "u2")

        let table = try fixture.run(["builds"])
        #expect(table.status == 0, "\(table)")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "p1  u2  approved", "newest first: \(lines)")
        #expect(lines.contains { $0.hasPrefix("  build.downloading ") && $0.hasSuffix("failed (exit 3)") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("  build.approved ") && $0.hasSuffix("pending") }, "\(lines)")
        #expect(lines.contains("p1  u1  in progress"))

        let json = try fixture.run(["builds", "--json", "--limit", "1"])
        #expect(json.status == 0)
        #expect(JSONScanner.isValid(Array(json.stdout.utf8)))
        #expect(json.stdout.hasPrefix(#"{"builds":[{"projectId":"p1","uploadId":"u2","outcome":"approved","#))
        #expect(!json.stdout.contains(#""uploadId":"u1""#))

        #expect(try fixture.run(["builds", "--project", "nobody"]).stdout == "no builds of project nobody in \(fixture.spoolLayout.deliveries)\n")
    }

    @Test func stalledAfterTheSetting() throws {
        let fixture = try CommandFixture()
        try fixture.store(event: "build.uploaded", uploadId: "u1")
        try fixture.age(CommandFixture.spoolFiles.payloadPath(DeliveryKey("p1/u1/build.uploaded")), seconds: 3 * 3600 + 120)
        let table = try fixture.run(["builds"], environment: ["PIXELHOOK_STALLED_AFTER": "2h"])
        #expect(table.stdout.hasPrefix("p1  u1  stalled: no event for 3h 2m\n"), "\(table)")
        let patient = try fixture.run(["builds", "--json"], environment: ["PIXELHOOK_STALLED_AFTER": "1d"])
        #expect(patient.stdout.contains(#""outcome":"in_progress""#))
    }

    /// docs/commands.md documents `--json`; its example must have exactly the fields printed.
    @Test func theDocumentedExampleHasThePrintedFields() throws {
        let fixture = try CommandFixture()
        try fixture.handler("default", "exit 0")
        _ = try fixture.run(["handle"], stdin: CommandFixture.payload(event: "build.uploaded"))
        try fixture.store(event: "build.rejected")
        let printed = try fixture.run(["builds", "--json"]).stdout
        let readme = try String(contentsOfFile: BuiltBinary.packageRoot + "/docs/commands.md", encoding: .utf8)
        let start = try #require(readme.range(of: "```json\n{\"builds\""))
        let example = String(readme[start.upperBound...].prefix { $0 != "\n" })
        func names(_ json: String) -> [String] {
            let parts = json.components(separatedBy: "\":")
            return Set(parts.dropLast().compactMap { $0.components(separatedBy: "\"").last }).sorted()
        }
        #expect(names("{\"builds\"" + example) == names(printed))
    }
}
