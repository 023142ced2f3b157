import Foundation
import Testing

/// The example configs keep `?token=SECRET` out of the web server's access log (the Webhook URL
/// carries it), while still logging each request to the hook.
@Suite struct AccessLogTests {
    @Test("The token is not in the access log", arguments: Gateway.allCases)
    func tokenNotLogged(_ gateway: Gateway) throws {
        let token = "tok-" + UUID().uuidString.lowercased()
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_TOKEN": token])
        try server.writeRecorder(named: "default")
        let stored = try server.post(Payloads.seed("build.uploaded"), query: "token=\(token)")
        #expect(stored.status == 200, "\(stored)")
        let refused = try server.post(Payloads.seed("build.approved"), query: "token=\(token)x")
        #expect(refused.status == 401, "\(refused)")
        try server.waitForHandlers(count: 1)

        // lighttpd writes its access log out about once a second.
        var log: [String] = []
        let deadline = Date().addingTimeInterval(5)
        repeat {
            log = server.lines(of: server.logDirectory + "/access.log")
            if log.filter({ $0.contains(gateway.path + " ") }).count >= 3 { break }
            usleep(50_000)
        } while Date() < deadline
        #expect(log.filter { $0.contains(gateway.path + " ") }.count >= 3, "\(log)")  // health check, 200, 401
        #expect(!log.contains { $0.contains(token) || $0.contains("token=") }, "\(log)")
    }
}
