import Foundation
import PixelhookCore
import PixelhookRuntime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `pixelhook check`'s warnings about mistakes that lose deliveries in silence (SPEC "Seeing
/// what happened, and what was lost"): each alone makes a good setup fail, with its fix.
@Suite struct CheckWarningsTests {
    @Test func noTokenIsAProblem() throws {
        let fixture = try CheckCommandTests.goodFixture()
        fixture.settings["PIXELHOOK_TOKEN"] = nil
        let checked = try fixture.run(["check"])
        #expect(checked.status == 1, "\(checked)")
        #expect(checked.stdout == "problem: PIXELHOOK_TOKEN is not set: anyone who finds the URL can post deliveries, and a ?token= in it is not checked; set it to a secret (openssl rand -hex 32) and add ?token=SECRET to the webhook URL\n")
    }

    @Test func aReadTokenEqualToTheSendersIsAProblem() throws {
        let fixture = try CheckCommandTests.goodFixture()
        let token = try #require(fixture.settings["PIXELHOOK_TOKEN"])
        fixture.settings["PIXELHOOK_READ_TOKEN"] = "other-\(token)"
        #expect(try fixture.run(["check"]).status == 0)
        fixture.settings["PIXELHOOK_READ_TOKEN"] = token
        let checked = try fixture.run(["check"])
        #expect(checked.status == 1, "\(checked)")
        #expect(checked.stdout == "problem: PIXELHOOK_READ_TOKEN is the same as PIXELHOOK_TOKEN: whoever has the webhook URL can also read the metrics and the status page (every build and its handlers' output); give it its own secret (openssl rand -hex 32)\n", "\(checked)")
    }

    @Test(arguments: ["build.approved", "handlers.env"])
    func crlfLineEndingsAreAProblem(_ name: String) throws {
        let fixture = try CheckCommandTests.goodFixture()
        let path = fixture.handlers + "/" + name
        try "#!/bin/sh\r\nexit 0\r\n".write(toFile: path, atomically: true, encoding: .utf8)
        if name != "handlers.env" { chmod(path, 0o755) }
        let checked = try fixture.run(["check"])
        #expect(checked.status == 1, "\(checked)")
        let harm = name == "handlers.env" ? "each value ends in a carriage return the handlers do not expect"
            : "its first line names a program ending in a carriage return, so it fails as \"No such file or directory\""
        #expect(checked.stdout == "problem: \(path) has CRLF (Windows) line endings: \(harm) (sed -i 's/\\r$//' \(path))\n")
    }

    @Test func anotherUsersSpoolIsAProblem() throws {
        let fixture = try CheckCommandTests.goodFixture()
        try FileManager.default.createDirectory(atPath: fixture.spool, withIntermediateDirectories: false)
        chmod(fixture.directory, 0o755)
        // The spool stays root's; check runs as nobody, who is not its owner.
        let checked = try fixture.run(["check"], launcher: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
        #expect(checked.status == 1, "\(checked)")
        #expect(checked.stdout.hasPrefix("problem: check runs as nobody (uid 65534), but the spool \(fixture.spool) belongs to root (uid 0), who the web server runs pixelhook as: run it as that user (sudo -u root pixelhook check)\n"), "\(checked)")
    }

    @Test func refusalsInTheLastDayAreCountedWithTheLikelyProject() throws {
        let fixture = try CheckCommandTests.goodFixture()
        fixture.settings["PIXELHOOK_PROJECT_IDS"] = "12345"
        let typo = CommandFixture.payload(project: "12346")
        for _ in 0..<2 { _ = try fixture.run(["handle"], stdin: typo) }
        _ = try fixture.run(["handle"], stdin: CommandFixture.payload(project: "99999"))
        // A day-old refusal is not counted: the log is read backwards only as far as 24 hours.
        let old = RequestRecord(time: "2000-01-01T00:00:00.000Z", remoteAddress: "x", method: "POST", status: 401,
                                envelope: nil, outcome: "unauthorized: wrong token")
        let log = fixture.spoolLayout.requestLog
        let recent = try String(contentsOfFile: log, encoding: .utf8)
        try (old.line + recent).write(toFile: log, atomically: true, encoding: .utf8)
        chmod(log, 0o600)
        let checked = try fixture.run(["check"])
        #expect(checked.status == 1, "\(checked)")
        #expect(checked.stdout == "problem: 3 deliveries refused in the last 24 hours: unknown_project (403), for projectId 12346 (did you mean 12345? it is in PIXELHOOK_PROJECT_IDS), projectId 99999; see pixelhook log --refused\n")
    }
}
