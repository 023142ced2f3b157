import Foundation
import Testing
import PixelhookCore
@testable import PixelhookRuntime

/// `requests.log` is opened for every line, which is what lets logrotate move it away at any time
/// with no signal and no `copytruncate` (README, *What each answer means*).
@Suite struct RequestLogTests {
    func record(_ outcome: String) -> RequestRecord {
        RequestRecord(time: "2026-11-23T05:00:00.000Z", remoteAddress: "127.0.0.1", method: "POST",
                      status: 200, envelope: nil, outcome: outcome)
    }

    func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func theFirstLineCreatesTheSpoolAndTheLog() throws {
        let scratch = try Scratch()
        let log = RequestLog(spool: Spool(root: scratch.spool))
        #expect(log.append(record("first")))
        #expect(lines(log.path) == [record("first").line.trimmingCharacters(in: .newlines)])
    }

    @Test func aLogMovedAwayKeepsItsLinesAndTheNextLineStartsANewOne() throws {
        let scratch = try Scratch()
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
        let scratch = try Scratch()
        let spool = Spool(root: scratch.spool)
        try spool.prepare()
        // A directory where the log should be: open(2) fails with EISDIR.
        try FileManager.default.createDirectory(atPath: spool.requestLog, withIntermediateDirectories: false)
        #expect(!RequestLog(spool: spool).append(record("lost")))
    }
}
