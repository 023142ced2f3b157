import Foundation
import Testing

/// `pixelhook metrics`: the same text as `GET ?view=metrics`, on stdout, for node_exporter's
/// textfile collector.
@Suite struct MetricsCommandTests {
    @Test func printsTheMetricsOfTheSpoolAndExits0() throws {
        let fixture = try CommandFixture()
        for event in ["build.uploaded", "build.approved"] {  // logged in requests.log, as over HTTP
            let handled = try fixture.run(["handle"], stdin: CommandFixture.payload(event: event, uploadId: "u1"))
            #expect(handled.status == 0, "\(handled)")
        }
        let outcome = try fixture.run(["metrics"])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stderr.isEmpty)
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("# TYPE pixelhook_deliveries_total counter"))
        #expect(lines.contains(#"pixelhook_deliveries_total{event="build.approved"} 1"#), "\(outcome.stdout)")
        #expect(lines.contains(#"pixelhook_handler_results{state="done"} 2"#), "no handler file: done")
        #expect(lines.contains(#"pixelhook_handler_results{state="gave_up"} 0"#))
        #expect(fixture.exists("spool/metrics.checkpoint"), "the next run starts where this one ended")
        // A second run counts nothing twice.
        let again = try fixture.run(["metrics"])
        #expect(again.stdout.contains(#"pixelhook_deliveries_total{event="build.approved"} 1"#), "\(again.stdout)")
    }

    @Test func helpSaysWhatItPrintsAndHowItStaysCheap() throws {
        let outcome = try CommandFixture().run(["metrics", "--help"])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("textfile collector"))
        #expect(outcome.stdout.contains("metrics.checkpoint"))
    }
}
