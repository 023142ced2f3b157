import Foundation
import Testing
@testable import PixelhookCore

@Suite("RequestRecord")
struct RequestRecordTests {
    @Test("a log line is one JSON object and a newline, in field order")
    func line() {
        let envelope = Envelope(event: "build.approved", projectId: "p", uploadId: "u", fileUrl: nil,
                                status: "Approved", objection: nil, timestamp: Fixture.timestamp)
        let record = RequestRecord(time: "2026-03-29T14:30:00Z", remoteAddress: "203.0.113.9", method: "POST",
                                   status: 200, envelope: envelope, outcome: "stored")
        #expect(record.line == #"{"time":"2026-03-29T14:30:00Z","remote":"203.0.113.9","method":"POST","status":200,"event":"build.approved","projectId":"p","uploadId":"u","outcome":"stored"}"# + "\n")
    }

    @Test("without an envelope, event, projectId and uploadId are null")
    func noEnvelope() {
        let record = RequestRecord(time: "t", remoteAddress: "", method: "PUT", status: 405,
                                   envelope: nil, outcome: "method_not_allowed")
        #expect(record.event == nil && record.projectId == nil && record.uploadId == nil)
        #expect(record.line.contains(#""event":null,"projectId":null,"uploadId":null"#))
    }

    @Test("hostile values cannot break the line apart")
    func hostile() throws {
        let envelope = Envelope(event: "a\nb", projectId: "\"}{", uploadId: nil, fileUrl: nil,
                                status: "", objection: nil, timestamp: "")
        let record = RequestRecord(time: "t", remoteAddress: "1.2.3.4\r\n", method: "POST", status: 403,
                                   envelope: envelope, outcome: "unknown_project: x\ny")
        let line = record.line
        #expect(line.hasSuffix("\n"))
        #expect(!line.utf8.dropLast().contains(0x0A))
        #expect(!line.utf8.contains(0x0D))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(parsed["event"] as? String == "a\nb")
        #expect(parsed["projectId"] as? String == "\"}{")
        #expect(parsed["uploadId"] is NSNull)
    }
}
