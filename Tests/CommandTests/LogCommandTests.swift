import Foundation
import PixelhookCore
import Testing
#if canImport(Glibc)
import Glibc
#endif
import PixelhookRuntime

/// `pixelhook log`: the request log, readable, filtered, read from its end.
@Suite struct LogCommandTests {
    /// A stored delivery, an unknown project (403) and an ignored event, through `handle`.
    static func fixtureWithTraffic() throws -> CommandFixture {
        let fixture = try CommandFixture()
        _ = try fixture.run(["handle"], stdin: CommandFixture.payload(uploadId: "ok-1"))
        _ = try fixture.run(["handle"], stdin: CommandFixture.payload(uploadId: "lost-1", project: "p2"))
        _ = try fixture.run(["handle"], stdin: CommandFixture.payload(uploadId: "lost-2"),
                            environment: ["PIXELHOOK_EVENTS": "build.rejected"])
        return fixture
    }

    @Test func everyRequestOneAlignedLine() throws {
        let fixture = try Self.fixtureWithTraffic()
        let log = try fixture.run(["log"])
        #expect(log.status == 0, "\(log)")
        let lines = log.stdout.split(separator: "\n")
        #expect(lines.count == 4, "\(log)")
        #expect(lines.first?.hasPrefix("time                      status  event           project  upload  outcome") == true, "\(log)")
        #expect(lines[1].contains("  200     build.approved  p1       ok-1    stored"), "\(log)")
        #expect(lines[2].contains("  403     build.approved  p2       lost-1  unknown_project: projectId \"p2\" is not in PIXELHOOK_PROJECT_IDS"), "\(log)")
        #expect(lines[3].contains("  200     build.approved  p1       lost-2  ignored: event not in PIXELHOOK_EVENTS"), "\(log)")
    }

    @Test func refusedKeepsWhatWasNotStoredAndJSONIsTheLogItself() throws {
        let fixture = try Self.fixtureWithTraffic()
        let refused = try fixture.run(["log", "--refused", "--json"])
        #expect(refused.status == 0, "\(refused)")
        let logged = try String(contentsOfFile: fixture.spoolLayout.requestLog, encoding: .utf8).split(separator: "\n")
        #expect(refused.stdout.split(separator: "\n") == Array(logged.dropFirst()), "\(refused)")
    }

    @Test func sinceStopsAtOlderLines() throws {
        let fixture = try Self.fixtureWithTraffic()
        let old = RequestRecord(time: "2000-01-01T00:00:00.000Z", remoteAddress: "x", method: "POST", status: 401,
                                envelope: nil, outcome: "unauthorized: wrong token")
        let path = fixture.spoolLayout.requestLog
        try (old.line + (try String(contentsOfFile: path, encoding: .utf8))).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try fixture.run(["log", "--refused"]).stdout.contains("2000-01-01"))
        let recent = try fixture.run(["log", "--refused", "--since", "1h"])
        #expect(recent.status == 0 && !recent.stdout.contains("2000-01-01") && recent.stdout.contains("lost-1"), "\(recent)")
    }

    @Test func badArgumentsAndAMissingSpool() throws {
        let fixture = try CommandFixture()
        let bad = try fixture.run(["log", "--since", "5x"])
        #expect(bad.status == 64 && bad.stderr == "pixelhook: --since must be a duration like 90s, 30m, 12h or 7d, got '5x' (see 'pixelhook log --help')\n", "\(bad)")
        let missing = try fixture.run(["log"])
        #expect(missing.status == 74 && missing.stderr.hasPrefix("pixelhook: no spool at \(fixture.spool)"), "\(missing)")
        try FileManager.default.createDirectory(atPath: fixture.spool, withIntermediateDirectories: false)
        let empty = try fixture.run(["log", "--refused"])
        #expect(empty.status == 0 && empty.stdout == "no refused or ignored deliveries in \(fixture.spool)/requests.log\n", "\(empty)")
    }
}
