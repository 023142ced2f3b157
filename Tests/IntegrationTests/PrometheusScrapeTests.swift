import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `examples/prometheus/`: the shipped scrape config and alert rules pass `promtool`, and a real
/// Prometheus started with that scrape config scrapes the FastCGI responder through nginx:
/// a PromQL query then returns the number of deliveries this test sent.
@Suite struct PrometheusScrapeTests {
    static var examples: String { BuiltBinary.packageRoot + "/examples/prometheus" }

    /// The example with this machine's target, the token file and a 1 s scrape interval.
    static func scrapeConfig(port: Int, path: String, tokenFile: String) throws -> String {
        var text = try String(contentsOfFile: examples + "/prometheus.yml", encoding: .utf8)
        for (from, to) in [("scheme: https", "scheme: http"), ("'hooks.example.com:443'", "'127.0.0.1:\(port)'"),
                           ("metrics_path: /hooks/streampixel ", "metrics_path: \(path) "),
                           ("/etc/prometheus/pixelhook-read-token", tokenFile),
                           ("scrape_interval: 60s", "scrape_interval: 1s"), ("evaluation_interval: 60s", "evaluation_interval: 1s")] {
            guard text.contains(from) else { throw FixtureError("examples/prometheus/prometheus.yml no longer holds \(from)") }
            text = text.replacingOccurrences(of: from, with: to)
        }
        return text
    }

    static let tools = ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"]

    @Test("promtool check config and check rules pass on the shipped examples")
    func examplesPassPromtool() throws {
        let temporary = try TemporaryDirectory(prefix: "pixelhook-prometheus")
        let directory = temporary.path
        defer { temporary.remove() }
        try "token\n".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        try Self.scrapeConfig(port: 8080, path: "/hooks/streampixel", tokenFile: directory + "/token")
            .write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Self.examples + "/pixelhook-alerts.yml", toPath: directory + "/pixelhook-alerts.yml")
        let config = try ToolRun.run("/usr/bin/promtool", ["check", "config", directory + "/prometheus.yml"], environment: Self.tools)
        #expect(config.status == 0, "\(config.output)")
        #expect(config.output.contains("7 rules found"), "\(config.output)")
        let rules = try ToolRun.run("/usr/bin/promtool", ["check", "rules", Self.examples + "/pixelhook-alerts.yml"], environment: Self.tools)
        #expect(rules.status == 0, "\(rules.output)")
    }

    @Test("a real Prometheus scrapes the FastCGI responder through nginx; PromQL counts the deliveries sent")
    func prometheusCountsTheDeliveries() throws {
        let readToken = "r34d-" + UUID().uuidString.lowercased(), sendToken = "s3nd-" + UUID().uuidString.lowercased()
        let server = try WebServerFixture(.nginxFastCGI, settings: ["PIXELHOOK_READ_TOKEN": readToken, "PIXELHOOK_TOKEN": sendToken])
        let sent = 5
        for index in 0..<sent {
            let reply = try server.post(Payloads.event(index % 2 == 0 ? "build.uploaded" : "build.approved", uploadId: "u\(index)"), query: "token=\(sendToken)")
            #expect(reply.status == 200, "\(reply)")
        }
        let duplicate = try server.post(Payloads.event("build.uploaded", uploadId: "u0"), query: "token=\(sendToken)")
        #expect(duplicate.status == 200 && duplicate.json?["duplicate"] != nil, "\(duplicate)")

        let directory = server.directory + "/prometheus"
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        try (readToken + "\n").write(toFile: directory + "/token", atomically: true, encoding: .utf8)
        try Self.scrapeConfig(port: server.port, path: Gateway.nginxFastCGI.path, tokenFile: directory + "/token")
            .write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Self.examples + "/pixelhook-alerts.yml", toPath: directory + "/pixelhook-alerts.yml")

        // Ours, on a free port: never the Debian package's own service on 9090.
        let port = try unusedLocalPort()
        let prometheus = try ChildProcess.server("/usr/bin/prometheus", [
            "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ], environment: Self.tools, log: directory + "/prometheus.log")
        defer {
            kill(prometheus.pid, SIGTERM)
            prometheus.reap(timeout: 10)
            if prometheus.isRunning {
                kill(prometheus.pid, SIGKILL)
                prometheus.reap()
            }
        }

        // Polls the HTTP API until the scrape has landed (a 1 s interval; Prometheus itself takes a moment to start).
        var answer: Double?
        var last = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, prometheus.isRunning {
            last = try Self.query("sum(pixelhook_deliveries_total)", port: port)
            answer = Self.scalar(last)
            if answer == Double(sent) { break }
            usleep(250_000)
        }
        let log = (try? String(contentsOfFile: directory + "/prometheus.log", encoding: .utf8)) ?? ""
        #expect(answer == Double(sent), "query answered \(last); prometheus \(prometheus.status): \(log)")
        let up = Self.scalar(try Self.query(#"up{job="pixelhook"}"#, port: port))
        #expect(up == 1)
        let uploaded = Self.scalar(try Self.query(#"pixelhook_deliveries_total{event="build.uploaded"}"#, port: port))
        #expect(uploaded == 3)
    }

    /// `GET /api/v1/query` with curl: the raw JSON answer ("" if Prometheus is not up yet).
    static func query(_ promql: String, port: Int) throws -> String {
        let encoded = promql.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? promql
        let run = try ToolRun.run("/usr/bin/curl", ["-s", "--noproxy", "*", "-m", "5",
                                                    "http://127.0.0.1:\(port)/api/v1/query?query=\(encoded)"], environment: tools)
        return run.status == 0 ? run.output : ""
    }

    /// The value of an instant vector of one sample, nil when it has none (not scraped yet).
    static func scalar(_ json: String) -> Double? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let data = object["data"] as? [String: Any], let result = data["result"] as? [[String: Any]],
              result.count == 1, let value = result[0]["value"] as? [Any], value.count == 2,
              let text = value[1] as? String else { return nil }
        return Double(text)
    }
}
