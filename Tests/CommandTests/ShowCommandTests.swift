import Foundation
import Testing
import PixelhookCore
import PixelhookRuntime

/// `pixelhook show DELIVERY`: a delivery, its handler's result and output, without digging in
/// the spool; ids validated before anything is looked up.
@Suite struct ShowCommandTests {
    @Test func aFailedHandlersResultAndOutputAreShown() throws {
        let fixture = try CommandFixture()
        fixture.settings["PIXELHOOK_TOKEN"] = "s3cret"
        try fixture.handler("build.approved", "echo 'deploy: permission denied' >&2\nexit 3")
        let handled = try fixture.run(["handle"], stdin: CommandFixture.payload(uploadId: "u7"))
        #expect(handled.status == 1, "\(handled)")
        let shown = try fixture.run(["show", "p1/u7/build.approved"])
        #expect(shown.status == 0, "\(shown)")
        #expect(shown.stdout.contains("delivery  p1/u7/build.approved\n"), "\(shown)")
        #expect(shown.stdout.contains(CommandFixture.payload(uploadId: "u7")), "\(shown)")
        #expect(shown.stdout.contains("  state:           failed\n"), "\(shown)")
        #expect(shown.stdout.contains("  exitCode:        3\n"), "\(shown)")
        #expect(shown.stdout.contains("  startedAt:       20"), "\(shown)")
        #expect(shown.stdout.hasSuffix("build.approved.output\ndeploy: permission denied\n"), "\(shown)")
    }

    @Test func aDeliveryNotRunYetSaysSo() throws {
        let fixture = try CommandFixture()
        let id = try fixture.store(uploadId: "u8")
        let shown = try fixture.run(["show", id])
        #expect(shown.status == 0, "\(shown)")
        #expect(shown.stdout.contains("  none yet: queued, running, or its runner died (`pixelhook retry` runs it)\n"), "\(shown)")
        #expect(shown.stdout.hasSuffix("output    none (the handler printed nothing, or has not run)\n"), "\(shown)")
    }

    @Test(arguments: ["../../etc/passwd", "p1/../build.approved", "/etc/passwd", "p1/u1", "p1/u1/build.approved/x", "p1//build.approved", ".x/u1/build.approved", "p1/u1/a~b~c"])
    func idsThatAreNotDeliveryIdsAreRefused(_ id: String) throws {
        let fixture = try CommandFixture()
        try fixture.store()
        let shown = try fixture.run(["show", id])
        #expect(shown.status == 64, "\(shown)")
        #expect(shown.stdout.isEmpty)
        #expect(shown.stderr.hasPrefix("pixelhook: not a delivery id: ") && shown.stderrLines.count == 1, "\(shown)")
    }

    @Test func anUnknownDeliveryIs65() throws {
        let fixture = try CommandFixture()
        try fixture.store()
        let shown = try fixture.run(["show", "p1/u9/build.approved"])
        #expect(shown.status == 65, "\(shown)")
        #expect(shown.stderr == "pixelhook: no delivery p1/u9/build.approved in \(fixture.spoolLayout.deliveries) (`pixelhook builds --json` lists the ids)\n")
    }
}
