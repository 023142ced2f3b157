import Testing
@testable import PixelhookCore

/// `pixelhook builds` in cluster mode: the one-host table and JSON, plus which host stored and
/// which ran each delivery (`DeliveryHosts`).
@Suite("BuildReport in cluster mode")
struct BuildReportClusterTests {
    static let a = "a:/var/spool/pixelhook", b = "b:/var/spool/pixelhook"

    static func rows() -> [BuildReport] {
        var uploaded = BuildReportTests.entry("build.uploaded", sentAfter: 0)
        uploaded.hosts = DeliveryHosts(storedBy: a, alsoStoredBy: [b], ranBy: b)
        var downloading = BuildReportTests.entry("build.downloading", sentAfter: 1000, result: nil)
        downloading.hosts = DeliveryHosts(storedBy: b, ranBy: a, runningOn: b)
        var extracting = BuildReportTests.entry("build.extracting", sentAfter: 2000, result: nil)
        extracting.hosts = DeliveryHosts(storedBy: a, inCluster: false)
        return [BuildReportTests.report(BuildReportTests.build([uploaded, downloading, extracting]))]
    }

    @Test("the table has a stored-by and a ran-by column")
    func table() {
        let lines = BuildReport.table(Self.rows(), now: BuildReportTests.start).split(separator: "\n").map(String.init)
        // Padded to the widest cell, "a:/var/spool/pixelhook (not handed over yet)".
        #expect(lines[1].hasSuffix("handler  stored by                                     ran by"))
        #expect(lines[2].hasSuffix("done     \(Self.a) +1 duplicate           \(Self.b)"))
        #expect(lines[3].hasSuffix("pending  \(Self.b)                        running on \(Self.b)"))
        #expect(lines[4].hasSuffix("pending  \(Self.a) (not handed over yet)  -"))
    }

    @Test("one host's table is unchanged: no host columns")
    func oneHost() {
        let text = BuildReport.table([BuildReportTests.report(BuildReportTests.build([BuildReportTests.entry("build.uploaded", sentAfter: 0)]))],
                                     now: BuildReportTests.start)
        #expect(!text.contains("stored by"))
    }

    @Test("JSON: each event's one-host members, then a cluster object")
    func json() {
        let text = BuildReport.json(Self.rows()).description
        #expect(text.contains(#""handler":{"state":"done","exitCode":0,"signal":null,"detail":null,"startedAt":"2026-03-29T14:30:01.000Z","durationMs":5,"attempts":1},"cluster":{"storedBy":"a:/var/spool/pixelhook","alsoStoredBy":["b:/var/spool/pixelhook"],"ranBy":"b:/var/spool/pixelhook","runningOn":null,"handedOver":true}}"#), "\(text)")
        #expect(text.contains(#""cluster":{"storedBy":"a:/var/spool/pixelhook","alsoStoredBy":[],"ranBy":null,"runningOn":null,"handedOver":false}"#), "\(text)")
    }
}
