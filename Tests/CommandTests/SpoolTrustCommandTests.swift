import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import PixelhookRuntime

/// A neighbour who could once write to the spool plants a build and a pending entry; the runner,
/// `retry` and `replay` must never run it as pixelhook's user, and `check` must say why.
@Suite struct SpoolTrustCommandTests {
    /// A spool with one real delivery (u1) and a planted build `evil` (its directory group-
    /// writable, as a neighbour's would be), listed in `pending/`. The handler leaves a marker
    /// per upload.
    static func plantedFixture(_ plant: (CommandFixture, String) throws -> Void) throws -> CommandFixture {
        let fixture = try CommandFixture()
        try fixture.handler("build.approved", #"touch "$FIXTURE/ran-$PIXELHOOK_UPLOAD_ID""#)
        try fixture.store(uploadId: "u1")
        let evil = BuildID(project: CommandFixture.projectID, build: "evil")
        let build = fixture.spoolLayout.buildDirectory(evil)
        let payload = StoredDelivery(directory: build, event: "build.approved").payloadPath
        try FileManager.default.createDirectory(atPath: build, withIntermediateDirectories: false)
        try CommandFixture.payload(uploadId: "evil").write(toFile: payload, atomically: false, encoding: .utf8)
        chmod(payload, 0o400)
        try plant(fixture, build)
        FileManager.default.createFile(atPath: fixture.spoolLayout.pendingEntry(evil), contents: nil)
        return fixture
    }

    static let plantings: [(String, @Sendable (CommandFixture, String) throws -> Void)] = [
        ("group-writable build directory", { _, build in chmod(build, 0o770) }),
        ("payload owned by nobody", { _, build in
            let nobody = getpwnam("nobody")!.pointee
            chown(StoredDelivery(directory: build, event: "build.approved").payloadPath, nobody.pw_uid, nobody.pw_gid)
        }),
    ]

    @Test("A planted build is never run: not by the runner, retry or replay", arguments: [0, 1])
    func plantedBuildNotRun(planting: Int) throws {
        let fixture = try Self.plantedFixture(Self.plantings[planting].1)
        let runner = try fixture.run(["run-queue"])
        #expect(runner.status == 0, "\(runner)")
        #expect(!fixture.exists("ran-evil"), "\(Self.plantings[planting].0): run by the runner")

        let retried = try fixture.run(["retry"])
        #expect(retried.status == 0, "\(retried)")
        #expect(fixture.exists("ran-u1"), "the real delivery still runs: \(retried)")
        #expect(!fixture.exists("ran-evil"), "\(Self.plantings[planting].0): run by retry")
        #expect(retried.stderr.contains("pixelhook: skipped \(fixture.spoolLayout.buildDirectory(BuildID(project: CommandFixture.projectID, build: "evil")))"), "\(retried)")

        let replayed = try fixture.run(["replay", "evil"])
        #expect(replayed.status != 0, "\(replayed)")
        #expect(!fixture.exists("ran-evil"), "\(Self.plantings[planting].0): run by replay")

        let checked = try fixture.run(["check"])
        #expect(checked.status == 1, "\(checked)")
        #expect(checked.stdout.contains(fixture.spoolLayout.buildDirectory(BuildID(project: CommandFixture.projectID, build: "evil"))), "\(checked)")
    }

    // A spool owned by another user is not among the cases: these commands run as root, and
    // root becomes the spool's owner before touching it (SpoolOwnerTests). The gateways, which
    // never switch, refuse such a spool (IntegrationTests.SpoolTrustTests).
    @Test("A spool others may write to: commands refuse it (74), check says why and how to fix",
          arguments: ["0777", "0770"])
    func weakSpoolRefusedByCommands(weakness: String) throws {
        let fixture = try CommandFixture()
        try fixture.handler("build.approved", #"touch "$FIXTURE/ran-$PIXELHOOK_UPLOAD_ID""#)
        try fixture.store(uploadId: "u1")
        chmod(fixture.spool, mode_t(weakness, radix: 8)!)
        let fix = "chmod go-w \(fixture.spool)"
        for command in [["retry"], ["builds"], ["replay", "u1"]] {
            let outcome = try fixture.run(command)
            #expect(outcome.status == 74, "\(command): \(outcome)")
            #expect(outcome.stderr.contains("refusing \(fixture.spool)") && outcome.stderr.contains(fix), "\(command): \(outcome)")
        }
        #expect(!fixture.exists("ran-u1"))
        let checked = try fixture.run(["check"])
        #expect(checked.status == 1, "\(checked)")
        #expect(checked.stdout.contains("problem: spool refusing \(fixture.spool)") && checked.stdout.contains(fix), "\(checked)")
    }

    @Test("check flags handlers and a handlers directory others can change")
    func writableHandlers() throws {
        let fixture = try CommandFixture()
        try fixture.handler("build.approved", "exit 0", mode: 0o775)
        try fixture.handler("default", "exit 0")
        let nobody = getpwnam("nobody")!.pointee
        chown(fixture.handlers + "/default", nobody.pw_uid, nobody.pw_gid)
        let checked = try fixture.run(["check"])
        #expect(checked.status == 1, "\(checked)")
        #expect(checked.stdout.contains("handler \(fixture.handlers)/build.approved is writable by group or others"), "\(checked)")
        #expect(checked.stdout.contains("chmod go-w \(fixture.handlers)/build.approved"), "\(checked)")
        #expect(checked.stdout.contains("handler \(fixture.handlers)/default is owned by nobody"), "\(checked)")

        chmod(fixture.handlers, 0o777)
        #expect(try fixture.run(["check"]).stdout.contains("handlers directory \(fixture.handlers) is writable by group or others"))
    }

    @Test("check gives the percent-encoded form of a token a URL would change; + / = are fine as they are",
          arguments: [("ab&c#d e%", "?token=ab%26c%23d%20e%25"), ("q+Zx/8kP3Lw+ab==", nil)] as [(String, String?)])
    func tokenNeedingEncoding(token: String, encoded: String?) throws {
        let fixture = try CommandFixture()
        fixture.settings["PIXELHOOK_TOKEN"] = token
        let checked = try fixture.run(["check"])
        if let encoded {
            #expect(checked.status == 1, "\(checked)")
            #expect(checked.stdout.contains(encoded), "\(checked)")
        } else {
            #expect(!checked.stdout.contains("PIXELHOOK_TOKEN"), "\(checked)")
        }
    }
}
