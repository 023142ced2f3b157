import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The CGI program's drain of a refused body (SPEC "One request" rule 4) is bounded in time: a
/// client that announces a large body and then stalls cannot hold the process. The web-server
/// side (the JSON 413 getting through fcgiwrap) is `RefusalTests.overLimitBodies`.
@Suite(.timeLimit(.minutes(1)))
struct CGIBodyDrainTests {
    @Test("A stalled over-limit body: 413 sent, the process gives up draining after its deadline")
    func stalledBodyIsAbandoned() throws {
        let fixture = try CommandFixture()
        // A FIFO this test keeps open for writing and never writes: stdin that neither ends nor
        // delivers, like a stalled client behind a web server that streams the body.
        let fifo = fixture.directory + "/stalled-body"
        guard mkfifo(fifo, 0o600) == 0 else { throw FixtureError("mkfifo: \(String(cString: strerror(errno)))") }
        let writer = open(fifo, O_RDWR | O_CLOEXEC)
        guard writer >= 0 else { throw FixtureError("open \(fifo): \(String(cString: strerror(errno)))") }
        defer { close(writer) }
        _ = "{\"event\":\"build.uploaded\"".withCString { write(writer, $0, strlen($0)) }

        let started = Date()
        let outcome = try fixture.run(
            [], environment: ["GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/json",
                              "CONTENT_LENGTH": "900000", "PIXELHOOK_MAX_BODY": "1024"],
            launcher: ["/bin/sh", "-c", "exec \"$0\" < " + fifo], timeout: 30)
        let elapsed = Date().timeIntervalSince(started)
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.hasPrefix("Status: 413"), "\(outcome)")
        #expect(outcome.stdout.contains("payload_too_large"), "\(outcome)")
        #expect(elapsed < 15, "gave up draining after \(elapsed) s")
    }
}
