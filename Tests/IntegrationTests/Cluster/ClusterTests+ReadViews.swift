import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `GET ?view=metrics` and `?view=builds` in cluster mode, through the static `pixelhook` as CGI
/// and as a FastCGI responder (which ignores SIGCHLD: the helper's answer is told complete by its
/// last line, not its exit status). In `ClusterTests`, which is serialized.
extension ClusterTests {
    static let readToken = "r34d-cluster"

    @Test("?view=metrics and ?view=builds show the cluster on every host; without PostgreSQL, this host's and say so",
          arguments: [Gateway.nginxFcgiwrap, .nginxFastCGI])
    func readViewsSeeTheCluster(gateway: Gateway) throws {
        let cluster = try ClusterHosts(lease: 2, hold: 1, gateway: gateway, settings: ["PIXELHOOK_READ_TOKEN": Self.readToken])
        let (a, b) = (cluster.hosts[0], cluster.hosts[1])
        let build = "m" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let pipeline = Self.pipeline(build: build)
        #expect(try cluster.post(pipeline[0].body, to: a.url) == 200)
        try cluster.waitUntilSettled(count: 1)
        let ranBy = try #require(Self.placement(cluster, build: build)[pipeline[0].event]?.ranBy)

        // B stored nothing: its metrics have the cluster's families, its page A's delivery.
        let metrics = try b.request("GET", query: "view=metrics&token=\(Self.readToken)")
        let text = String(decoding: metrics.body, as: UTF8.self)
        #expect(metrics.status == 200, "\(metrics)")
        #expect(text.contains("pixelhook_cluster_deliveries{state=\"done\"} 1\n"), "\(text)")
        #expect(text.contains("pixelhook_cluster_up 1\n") && text.contains("pixelhook_requests_total"), "\(text)")
        #expect(!text.contains("pixelhook-cluster: complete"), "\(text)")
        let check = try MetricsTests.promtoolCheckMetrics(metrics.body, in: b.directory)
        #expect(check.status == 0, "\(check.output)")
        let page = try b.request("GET", query: "view=builds&token=\(Self.readToken)")
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(page.status == 200 && page.header("Content-Security-Policy") != nil, "\(page)")
        #expect(html.contains(build) && html.contains("stored by <span class=\"host\">\(cluster.identity(of: a))</span>"), "\(html)")
        #expect(html.contains("ran by <span class=\"host\">\(ranBy)</span>") && html.hasSuffix("</html>\n"), "\(html)")

        // PostgreSQL down: still 200, this host's view, and it says so.
        cluster.postgres.stop()
        let down = try a.request("GET", query: "view=metrics&token=\(Self.readToken)")
        let downText = String(decoding: down.body, as: UTF8.self)
        #expect(down.status == 200 && downText.contains("pixelhook_cluster_up 0\n") && !downText.contains("pixelhook_cluster_deliveries"), "\(downText)")
        #expect(try MetricsTests.promtoolCheckMetrics(down.body, in: a.directory).status == 0)
        let localPage = try a.request("GET", query: "view=builds&token=\(Self.readToken)")
        let localHTML = String(decoding: localPage.body, as: UTF8.self)
        #expect(localPage.status == 200 && localHTML.contains("<p class=\"notice\">Cluster mode: the cluster&#39;s builds cannot be read now"), "\(localHTML)")
        #expect(localHTML.contains(build), "A's own spool has the build: \(localHTML)")
    }
}
