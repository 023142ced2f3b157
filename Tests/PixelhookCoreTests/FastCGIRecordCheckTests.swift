import PixelhookCore
import Testing

/// The check that keeps what libfcgi would abort on (issue #12, item 1) away from it; the
/// fuzzer (`FUZZ_ONLY=fastcgi fuzz/run.sh`) holds it to agreeing with libfcgi.
struct FastCGIRecordCheckTests {
    static func record(_ type: UInt8, _ content: [UInt8], id: UInt8 = 1, padding: UInt8 = 0) -> [UInt8] {
        [1, type, 0, id, UInt8(content.count >> 8), UInt8(content.count & 0xFF), padding, 0] + content + Array(repeating: 0, count: Int(padding))
    }
    static let begin = record(1, [0, 1, 0, 0, 0, 0, 0, 0])
    static let pair: [UInt8] = [14, 4] + Array("REQUEST_METHODPOST".utf8)

    @Test("nginx's start (padded params in two records, the empty one) is complete where the params end")
    func complete() {
        let start = Self.begin + Self.record(4, Array(Self.pair.prefix(7)), padding: 1) + Self.record(4, Array(Self.pair.dropFirst(7)), padding: 5) + Self.record(4, [])
        #expect(FastCGIRecordCheck.check(start + Self.record(5, Array("{}".utf8))) == .complete(prefixLength: start.count))
        #expect(FastCGIRecordCheck.check(Array(start.dropLast(3))) == .incomplete)
    }

    @Test("The issue's record: lengths 0x7ffffff0 + 15 in 16 bytes of params are refused")
    func overflowingLengths() {
        let start = Self.begin + Self.record(4, [0xFF, 0xFF, 0xFF, 0xF0, 0x80, 0, 0, 0x0F] + Array(repeating: 0x41, count: 8)) + Self.record(4, [])
        guard case .invalid(let reason) = FastCGIRecordCheck.check(start) else {
            Issue.record("accepted")
            return
        }
        #expect(reason.contains("2147483632 + 15"), "\(reason)")
    }

    @Test("Anything but BEGIN_REQUEST (RESPONDER) then PARAMS of that request is refused",
          arguments: [
            record(9, [1, 0, 0x41], id: 0),                                 // a management record first
            record(1, [0, 2, 0, 0, 0, 0, 0, 0]),                             // the AUTHORIZER role
            begin + record(9, [1, 0, 0x41], id: 0) + record(4, []),          // FCGI_GET_VALUES among the params
            begin + record(4, pair, id: 2) + record(4, []),                  // params of another request
            [2] + begin.dropFirst(),                                         // version 2
          ])
    func refused(_ bytes: [UInt8]) {
        if case .invalid = FastCGIRecordCheck.check(bytes) {} else { Issue.record("not refused: \(bytes)") }
    }

    @Test("Params over 64 KiB are refused before they are all there")
    func tooLong() {
        let chunk = Self.record(4, Array(repeating: 0, count: 0xFFFF))
        #expect(FastCGIRecordCheck.check(Self.begin + chunk) == .incomplete)
        if case .invalid = FastCGIRecordCheck.check(Self.begin + chunk + chunk) {} else { Issue.record("not refused") }
    }
}
