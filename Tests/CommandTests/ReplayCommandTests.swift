import Foundation
import Testing
import PixelhookCore
import PixelhookRuntime

/// `pixelhook replay`, run as a process against a real spool.
@Suite struct ReplayCommandTests {
    @Test func runsAnUploadsDeliveriesAgainInArrivalOrderReplacingTheirResults() throws {
        let fixture = try CommandFixture()
        try fixture.handler("default", #"echo "$PIXELHOOK_EVENT $(cat)" >> "$FIXTURE/runs"; echo "run $(wc -l < "$FIXTURE/runs")""#)
        for event in ["build.uploaded", "build.approved"] {
            #expect(try fixture.run(["handle"], stdin: CommandFixture.payload(event: event)).status == 0)
        }
        _ = try fixture.run(["handle"], stdin: CommandFixture.payload(event: "build.approved", uploadId: "other"))
        #expect(fixture.lineCount("runs") == 3)

        let replayed = try fixture.run(["replay", "u1"])
        #expect(replayed.status == 0, "\(replayed)")
        #expect(replayed.stdout == "p1/u1/build.uploaded: done (was done)\np1/u1/build.approved: done (was done)\n")
        let runs = fixture.read("runs")?.split(separator: "\n").map(String.init) ?? []
        #expect(runs.count == 5)
        // The same input as the first time.
        #expect(runs[3] == runs[0])
        #expect(runs[4] == runs[1])
        #expect(fixture.read(CommandFixture.spoolFiles.companionPath(DeliveryKey("p1/u1/build.approved"), .output)) == "run 5\n", "the new output replaced the old")

        let one = try fixture.run(["replay", "u1", "--event", "build.approved", "--project", "p1"])
        #expect(one.stdout == "p1/u1/build.approved: done (was done)\n", "\(one)")
        #expect(fixture.lineCount("runs") == 6)
    }

    @Test func aHandlerStillFailingIsExit1() throws {
        let fixture = try CommandFixture()
        try fixture.handler("default", "exit 4")
        _ = try fixture.run(["handle"], stdin: CommandFixture.payload())
        let replayed = try fixture.run(["replay", "u1"])
        #expect(replayed.status == 1)
        #expect(replayed.stdout == "p1/u1/build.approved: failed (exit 4), attempt 2 (was failed (exit 4))\n")
    }

    @Test func nothingMatchingIsAOneLineError() throws {
        let fixture = try CommandFixture()
        try fixture.store()
        for arguments in [["replay", "u2"], ["replay", "u1", "--event", "build.rejected"], ["replay", "u1", "--project", "p2"]] {
            let outcome = try fixture.run(arguments)
            #expect(outcome.status == 1, "\(outcome)")
            #expect(outcome.stderrLines.count == 1)
            #expect(outcome.stderr.hasPrefix("pixelhook: no stored delivery of upload "))
        }
    }
}
