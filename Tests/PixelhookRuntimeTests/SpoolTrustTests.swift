import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The spool is pixelhook's alone (`SpoolTrust`): what it makes, nobody else may read or write;
/// what another user could have planted, it refuses; the HTTP client hears a short reason and
/// the operator (the alarm, the web server's error log) the path, owner, mode and fix.
@Suite struct SpoolTrustTests {
    static let body = Array(#"{"event":"build.approved","projectId":"p1","uploadId":"u1","fileUrl":null,"status":"Approved","objection":null,"timestamp":"2026-03-29T14:30:00.000Z"}"#.utf8)

    func post(_ receiver: Receiver) -> Receiver.Reception {
        let head = RequestHead(method: "POST", contentType: "application/json", contentLength: Self.body.count)
        return receiver.receive(head) { _ throws(ReceiveError) in Self.body }
    }

    func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0o7777
    }

    @Test func aSpoolPixelhookMakesIsItsOwnAndPayloadsAreUnreadableToOthers() throws {
        let scratch = try ScratchSpool()
        let reception = post(Receiver(settings: .success(scratch.settings())))
        #expect(reception.response.status == 200, "\(reception.response.bodyText)")
        let spool = Spool(root: scratch.spool)
        for directory in [spool.root, spool.layout.deliveries, spool.layout.pending, spool.layout.runners, spool.layout.projectDirectory("p1"), spool.layout.buildDirectory(BuildID(project: "p1", build: "u1"))] {
            #expect(mode(directory) == 0o700, "\(directory)")
        }
        let key = DeliveryKey(project: "p1", build: "u1", event: "build.approved")
        for file in [spool.layout.payloadPath(key), SpoolLayout.arrivalsPath(in: spool.layout.buildDirectory(key)), spool.layout.requestLog] {
            #expect(mode(file) & 0o077 == 0, "\(file): \(String(mode(file), radix: 8))")
        }
        #expect(throws: Never.self) { try spool.verifyTrusted() }
    }

    @Test("A spool others may write to is refused: 503 with a short reason; the alarm has path, mode and fix",
          arguments: [0o777, 0o770, 0o702] as [mode_t])
    func writableByOthers(mode: mode_t) throws {
        let scratch = try ScratchSpool()
        try FileManager.default.createDirectory(atPath: scratch.spool, withIntermediateDirectories: false)
        chmod(scratch.spool, mode)
        let reception = post(Receiver(settings: .success(scratch.settings())))
        #expect(reception.response.status == 503)
        #expect(!reception.response.bodyText.contains(scratch.root), "\(reception.response.bodyText)")
        #expect(reception.response.bodyText.contains("spool refused"), "\(reception.response.bodyText)")
        let alarm = try #require(reception.alarm)
        #expect(alarm.contains(scratch.spool) && alarm.contains("chmod go-w \(scratch.spool)"), "\(alarm)")
        #expect(!FileManager.default.fileExists(atPath: scratch.spoolLayout.deliveries), "nothing made in it")

        let health = Receiver(settings: .success(scratch.settings())).receive(RequestHead(method: "GET")) { _ throws(ReceiveError) in [] }
        #expect(health.response.status == 503)
        #expect(!health.response.bodyText.contains(scratch.root), "\(health.response.bodyText)")
        #expect(health.alarm?.contains(scratch.spool) == true, "\(String(describing: health.alarm))")
    }

    @Test func aSpoolOwnedByAnotherUserIsRefusedWithTheChown() throws {
        let scratch = try ScratchSpool()
        try FileManager.default.createDirectory(atPath: scratch.spool, withIntermediateDirectories: false)
        let nobody = try #require(getpwnam("nobody"))
        chown(scratch.spool, nobody.pointee.pw_uid, nobody.pointee.pw_gid)
        chmod(scratch.spool, 0o700)
        let spool = Spool(root: scratch.spool)
        #expect(throws: StorageError.self) { try spool.verifyTrusted() }
        let problem = try #require(spool.problem())
        #expect(problem.contains("owned by nobody") && problem.contains("chown \(SpoolTrust.accountName(geteuid())) \(scratch.spool)"), "\(problem)")
        #expect(post(Receiver(settings: .success(scratch.settings()))).response.status == 503)
        // The commands' way in: every listing of builds refuses it (exit 74).
        #expect(throws: StorageError.self) { try spool.buildIDs() }
        #expect(throws: StorageError.self) { try DetachedQueueRunner.runPending(settings: scratch.settings()) }
    }

    @Test func aSettingsFailureTellsTheClientLittleAndTheErrorLogAll() {
        let message = "cannot read config file /home/alice/.config/pixelhook/pixelhook.conf: Permission denied"
        let receiver = Receiver(settings: .failure(SettingsError(message)))
        for method in ["GET", "POST"] {
            let reception = method == "GET"
                ? receiver.receive(RequestHead(method: "GET")) { _ throws(ReceiveError) in [] }
                : post(receiver)
            #expect(!reception.response.bodyText.contains("/home/alice"), "\(method): \(reception.response.bodyText)")
            #expect(reception.alarm?.contains(message) == true, "\(method): \(String(describing: reception.alarm))")
        }
    }
}
