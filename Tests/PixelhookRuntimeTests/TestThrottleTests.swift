import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

/// Issue #12 item 11: `webhook.test` is exempt from the allow-list and never a duplicate, so
/// with no token anyone could store thousands. One is stored per `TestThrottle` window; the
/// others get the same 200 and are only logged, `test coalesced`.
@Suite struct TestThrottleTests {
    @Test func aSecondTestWithinTheWindowIsAnsweredAndLoggedNotStored() throws {
        let scratch = try ScratchSpool()
        let receiver = Receiver(settings: .success(scratch.settings()))
        let head = RequestHead(method: "POST", contentType: "application/json", remoteAddress: "203.0.113.9")
        let test = payload(event: "webhook.test", uploadId: nil, project: "test_project_id")
        let first = receiver.receive(head) { _ throws(ReceiveError) in test }
        let second = receiver.receive(head) { _ throws(ReceiveError) in test }

        #expect(first.response.status == 200 && second.response.status == 200)
        #expect(first.response.body == second.response.body)
        #expect(first.followUp != nil)
        #expect(second.followUp == nil)
        let stored = scratch.files(under: ScratchSpool.spoolFiles.deliveries).filter { $0.hasSuffix(SpoolLayout.payloadSuffix) }
        #expect(stored.count == 1)
        let outcomes = (scratch.read(ScratchSpool.spoolFiles.requestLog) ?? "").split(separator: "\n").map {
            $0.contains("\"outcome\":\"stored\"") ? "stored" : $0.contains("\"outcome\":\"test coalesced\"") ? "coalesced" : "?"
        }
        #expect(outcomes == ["stored", "coalesced"])
    }

    @Test func aTestAfterTheWindowIsStored() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        try spool.prepare()
        let throttle = TestThrottle(spool: spool)
        #expect(throttle.admit())
        #expect(!throttle.admit())
        // The last test was stored a window ago, or "in the future" (the clock was set back).
        for shift in [-Double(TestThrottle.defaultWindowSeconds), 3600] {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: shift)], ofItemAtPath: throttle.path)
            #expect(throttle.admit())
        }
    }
}
