import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

/// `requests.log` is opened for every line, which is what lets logrotate move it away at any time
/// with no signal and no `copytruncate` (docs/spool.md, "The request log").
@Suite struct RequestLogTests {
    func record(_ outcome: String) -> RequestRecord {
        RequestRecord(time: "2026-11-23T05:00:00.000Z", remoteAddress: "127.0.0.1", method: "POST",
                      status: 200, envelope: nil, outcome: outcome)
    }

    func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func theFirstLineCreatesTheSpoolAndTheLog() throws {
        let scratch = try ScratchSpool()
        let log = RequestLog(spool: Spool(root: scratch.spool))
        #expect(log.append(record("first")))
        #expect(lines(log.path) == [record("first").line.trimmingCharacters(in: .newlines)])
    }

    @Test func aLogMovedAwayKeepsItsLinesAndTheNextLineStartsANewOne() throws {
        let scratch = try ScratchSpool()
        let log = RequestLog(spool: Spool(root: scratch.spool))
        #expect(log.append(record("before 1")))
        #expect(log.append(record("before 2")))
        let rotated = log.path + ".1"
        #expect(rename(log.path, rotated) == 0)

        #expect(log.append(record("after")))
        #expect(lines(rotated).count == 2)
        #expect(lines(rotated).allSatisfy { $0.contains("\"outcome\":\"before") })
        #expect(lines(log.path) == [record("after").line.trimmingCharacters(in: .newlines)])
        var info = stat()
        #expect(stat(log.path, &info) == 0 && info.st_mode & 0o777 == 0o600)
    }

    @Test func aLogThatCannotBeWrittenIsReportedNotFatal() throws {
        let scratch = try ScratchSpool()
        let spool = Spool(root: scratch.spool)
        try spool.prepare()
        // A directory where the log should be: open(2) fails with EISDIR.
        try FileManager.default.createDirectory(atPath: spool.layout.requestLog, withIntermediateDirectories: false)
        #expect(!RequestLog(spool: spool).append(record("lost")))
    }

    /// Issue #12 item 12: with no token anyone can post; each refusal used to log its ids
    /// whole (a 30 KB projectId, a 60 KB line). Every echoed field is now cut as the answer
    /// cuts it, so a line stays under `RequestRecord.maximumLineBytes`.
    @Test func hostileIdsAreCutInTheLogAsInTheAnswer() throws {
        let scratch = try ScratchSpool()
        let huge = String(repeating: "a", count: 30_000)
        let escaped = String(repeating: "\u{1}", count: 30_000)  // 6 bytes each once escaped
        var settings = scratch.settings()
        settings.maxBody = 1 << 20  // an operator's raised limit: the ids fit the body
        let receiver = Receiver(settings: .success(settings))
        let unknownProject = receiver.receive(
            RequestHead(method: "POST", contentType: "application/json", remoteAddress: escaped)
        ) { _ throws(ReceiveError) in payload(event: "build." + huge, uploadId: huge, project: huge) }
        #expect(unknownProject.response.status == 403)
        let wrongType = receiver.receive(RequestHead(method: "POST", contentType: escaped)) { _ throws(ReceiveError) in [] }
        #expect(wrongType.response.status == 415)
        let wrongMethod = receiver.receive(RequestHead(method: escaped)) { _ throws(ReceiveError) in [] }
        #expect(wrongMethod.response.status == 405)

        let logged = lines(Spool(root: scratch.spool).layout.requestLog)
        #expect(logged.count == 3)
        for line in logged {
            #expect(line.utf8.count + 1 <= RequestRecord.maximumLineBytes, "a line of \(line.utf8.count) bytes")
        }
        let cutId = String(repeating: "a", count: EnvelopeParser.echoedCharacters) + "…"
        #expect(logged.first?.contains("\"projectId\":\"\(cutId)\",\"uploadId\":\"\(cutId)\"") == true)
    }
}
