import Foundation
import Testing

/// SPEC "Seeing what happened, and what was lost", through each real web server: the mistakes
/// that pass the dashboard's Test (a projectId one digit off, a typo in PIXELHOOK_EVENTS) show
/// in `log --refused` and in `check`'s counts, and an alarm lands in SPOOL/alarms.log whatever
/// the gateway does with stderr.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct LostDeliveryTests {
    /// The configured projectId with its last digit changed: what a paste error looks like.
    static let oneDigitOff = String(WebServerFixture.projectID.dropLast()) + "1"

    @Test("A projectId one digit off (403) and an event filter typo (200 ignored) are in log --refused and check's counts",
          arguments: Gateway.allCases)
    func refusalsAreListedAndCounted(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_TOKEN": "s3cret", "PIXELHOOK_EVENTS": "build.aproved"])
        let settings = ["PIXELHOOK_TOKEN": "s3cret", "PIXELHOOK_EVENTS": "build.aproved", "PIXELHOOK_CONFIG": ""]
        let wrongProject = try server.post(Payloads.event("build.approved", uploadId: "lost-1", projectId: Self.oneDigitOff),
                                           query: "token=s3cret")
        #expect(wrongProject.status == 403, "\(wrongProject)")
        let ignored = try server.post(Payloads.event("build.approved", uploadId: "lost-2"), query: "token=s3cret")
        #expect(ignored.status == 200 && ignored.json?["ignored"] == true, "\(ignored)")
        let health = try server.request("GET")
        #expect(health.status == 200, "\(health)")

        let log = try server.runPixelhook(["log", "--refused"], settings: settings)
        #expect(log.status == 0, "\(log)")
        let lines = log.output.split(separator: "\n")
        #expect(lines.count == 3, "a header and the two lost deliveries, not the health check: \(log.output)")
        #expect(lines.contains { $0.contains(" 403 ") && $0.contains(Self.oneDigitOff) && $0.contains("unknown_project: ") }, "\(log.output)")
        #expect(lines.contains { $0.contains(" 200 ") && $0.contains("lost-2") && $0.contains("ignored: event not in PIXELHOOK_EVENTS") }, "\(log.output)")

        let check = try server.runPixelhook(["check"], settings: settings)
        #expect(check.status == 1, "\(check)")
        #expect(check.output.contains("problem: 1 delivery refused in the last 24 hours: unknown_project (403), for projectId \(Self.oneDigitOff) (did you mean \(WebServerFixture.projectID)?"), "\(check.output)")
        #expect(check.output.contains("problem: 1 delivery ignored (200, not stored) in the last 24 hours: ignored: event not in PIXELHOOK_EVENTS, for event build.approved"), "\(check.output)")
        #expect(check.output.contains("problem: PIXELHOOK_EVENTS names build.aproved, not an event pixelhook knows (did you mean build.approved?)"), "\(check.output)")
    }

    @Test("Invalid settings (PIXELHOOK_MAX_BODY=abc): the 500's alarm is in SPOOL/alarms.log", arguments: Gateway.allCases)
    func alarmIsKeptInTheSpool(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_MAX_BODY": "abc"])
        // An alarm never creates a spool: give it one, as a working setup had.
        try FileManager.default.createDirectory(atPath: server.spool, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let reply = try server.post(Payloads.event("build.approved", uploadId: "alarm-1"))
        #expect(reply.status == 500, "\(reply)")
        let alarms = server.lines(of: server.spool + "/alarms.log")
        #expect(alarms.contains { $0.contains("500 configuration: settings invalid") && $0.contains("PIXELHOOK_MAX_BODY must be a whole number from 1 to 67108864, got abc") },
                "\(alarms)")
        #expect(alarms.allSatisfy { $0.utf8.count < 1024 && $0.hasPrefix("20") }, "time first, bounded: \(alarms)")
        let mode = (try FileManager.default.attributesOfItem(atPath: server.spool + "/alarms.log")[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600)
    }
}
