import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// SPEC "Metrics and the status page" through real web servers: the read token's gate on
/// every gateway, the text `promtool` accepts, and a real Prometheus scraping it.
@Suite struct MetricsTests {
    static let readToken = "r34d-" + UUID().uuidString.lowercased()
    static let sendToken = "s3nd-" + UUID().uuidString.lowercased()

    @Test("401 without or with a wrong read token, 200 with it (query or bearer), promtool accepts the text",
          arguments: Gateway.allCases)
    func gate(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: [
            "PIXELHOOK_READ_TOKEN": Self.readToken, "PIXELHOOK_TOKEN": Self.sendToken])
        for upload in ["u1", "u2"] {
            let stored = try server.post(Payloads.event("build.uploaded", uploadId: upload), query: "token=\(Self.sendToken)")
            #expect(stored.status == 200, "\(stored)")
        }
        let refused = try server.post(Payloads.event("build.uploaded", uploadId: "u3"), query: "token=\(Self.readToken)")
        #expect(refused.status == 401, "the read token opened POST: \(refused)")

        for (query, headers) in [("view=metrics", [String]()), ("view=metrics&token=wrong", []),
                                 ("view=metrics&token=\(Self.sendToken)", []),
                                 ("view=metrics", ["Authorization: Bearer \(Self.sendToken)"]),
                                 ("view=builds&token=\(Self.sendToken)", [])] {
            let reply = try server.request("GET", contentType: nil, query: query, headers: headers)
            #expect(reply.status == 401, "\(query) \(headers): \(reply)")
            #expect(reply.json?["error"]?.string == "unauthorized", "\(reply)")
        }

        let health = try server.request("GET", contentType: nil)
        #expect(health.status == 200 && health.json?["ok"] != nil, "a plain GET is still the health check: \(health)")

        for (query, headers) in [("view=metrics&token=\(Self.readToken)", [String]()),
                                 ("view=metrics", ["Authorization: Bearer \(Self.readToken)"])] {
            let reply = try server.request("GET", contentType: nil, query: query, headers: headers)
            #expect(reply.status == 200, "\(query) \(headers): \(reply)")
            #expect(reply.contentType?.hasPrefix("text/plain; version=0.0.4") == true, "\(reply)")
            #expect(reply.text.contains(#"pixelhook_deliveries_total{event="build.uploaded"} 2"#), "\(reply.text)")
            #expect(reply.text.contains(#"pixelhook_refused_total{reason="unauthorized"} 1"#), "\(reply.text)")
            let check = try Self.promtoolCheckMetrics(reply.body, in: server.directory)
            #expect(check.status == 0, "promtool check metrics: \(check.output)\n\(reply.text)")
        }
    }

    @Test("with PIXELHOOK_READ_TOKEN unset, both views are 404 whatever the request carries", arguments: Gateway.allCases)
    func off(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_TOKEN": Self.sendToken])
        for query in ["view=metrics", "view=metrics&token=\(Self.sendToken)", "view=builds&token=x"] {
            let reply = try server.request("GET", contentType: nil, query: query)
            #expect(reply.status == 404, "\(query): \(reply)")
            #expect(reply.json?["error"]?.string == "not_found", "\(reply)")
            #expect(reply.contentType == "application/json", "\(reply)")
        }
    }

    /// `promtool check metrics` reads the exposition on stdin; exit 0 means no problem found.
    static func promtoolCheckMetrics(_ body: Data, in directory: String) throws -> (status: Int32, output: String) {
        let file = directory + "/metrics-\(UUID().uuidString).txt"
        try body.write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        return try ToolRun.run("/bin/sh", ["-c", "exec promtool check metrics < \"$0\"", file],
                               environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"])
    }
}
