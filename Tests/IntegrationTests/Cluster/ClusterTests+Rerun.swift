import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `replay` and `retry` in cluster mode run the cluster's copy again, once, on whichever host
/// claims the build, whichever host ran it before. In `ClusterTests`, which is serialized.
extension ClusterTests {
    static func row(_ cluster: ClusterHosts, _ build: String, _ event: String) throws -> [String] {
        try cluster.postgres.query("""
            SELECT state, attempts, ran_by FROM pixelhook_deliveries
            WHERE project = '\(WebServerFixture.projectID)' AND build = '\(build)' AND event = '\(event)'
            """)
    }

    @Test("replay on host B of a delivery host A ran: it runs exactly once more, on B, and says so")
    func replayFromTheOtherHost() throws {
        let cluster = try ClusterHosts(lease: 2, hold: 1)
        let (a, b) = (cluster.hosts[0], cluster.hosts[1])
        let build = "r" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let (event, body) = Self.pipeline(build: build)[0]
        let id = Self.id(build, event)
        // Stored on A only: B has no runner, so A runs it.
        #expect(try cluster.post(body, to: a.url) == 200)
        try cluster.waitUntilSettled(count: 1)
        #expect(try Self.row(cluster, build, event) == ["done|1|\(cluster.identity(of: a))"])
        #expect(cluster.runs.map(\.host) == ["A"])

        let replay = try b.runPixelhook(["replay", build], settings: cluster.commandSettings)
        #expect(replay.status == 0, "\(replay.output)")
        #expect(replay.output == "\(id): done (was done), ran by \(cluster.identity(of: b))\n", "\(replay.output)")
        // Past a lease and a hold: no runner of either host ran it a third time.
        usleep(3_500_000)
        #expect(cluster.runs.filter { $0.delivery == id }.map(\.host) == ["A", "B"])
        #expect(try Self.row(cluster, build, event) == ["done|2|\(cluster.identity(of: b))"])
        #expect(try cluster.postgres.query("SELECT lease_holder IS NULL FROM pixelhook_builds WHERE build = '\(build)'") == ["t"])

        // Nothing of that upload: said, exit 1.
        let none = try b.runPixelhook(["replay", "no-such-upload"], settings: cluster.commandSettings)
        #expect(none.status == 1, "\(none.output)")
    }

    @Test("retry on host B reruns a delivery that failed on host A once its back-off has passed, once")
    func retryFromTheOtherHost() throws {
        let flag = "/tmp/pixelhook-cluster-flag-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(flag) }
        let cluster = try ClusterHosts(lease: 2, hold: 1, handlerScript: """
            [ -e \(flag) ] || exit 3
            echo "$PIXELHOOK_DELIVERY HOST" >> RUNLOG
            """)
        let (a, b) = (cluster.hosts[0], cluster.hosts[1])
        let build = "t" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let (event, body) = Self.pipeline(build: build)[0]
        let id = Self.id(build, event)
        #expect(try cluster.post(body, to: a.url) == 200)
        let deadline = Date().addingTimeInterval(30)
        while try Self.row(cluster, build, event).first?.hasPrefix("failed|") != true, Date() < deadline { usleep(100_000) }
        #expect(try Self.row(cluster, build, event) == ["failed|1|\(cluster.identity(of: a))"])

        // Within the back-off (1 min after the first attempt): nothing runs.
        _ = FileManager.default.createFile(atPath: flag, contents: nil)
        let early = try b.runPixelhook(["retry"], settings: cluster.commandSettings)
        #expect(early.status == 0, "\(early.output)")
        #expect(try Self.row(cluster, build, event) == ["failed|1|\(cluster.identity(of: a))"])
        #expect(cluster.runs.isEmpty)

        // The back-off has passed (the result says it started two minutes ago): B runs it, once.
        _ = try cluster.postgres.query("""
            UPDATE pixelhook_deliveries SET result = regexp_replace(result, '"startedAt":"[^"]*"',
                '"startedAt":"' || to_char((now() - interval '2 minutes') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"')
            WHERE build = '\(build)'
            """)
        let due = try b.runPixelhook(["retry"], settings: cluster.commandSettings)
        #expect(due.status == 0, "\(due.output)")
        #expect(due.output.contains("will run \(id) again (now failed (exit 3))") && due.output.contains("\(id): done"), "\(due.output)")
        usleep(3_500_000)
        #expect(cluster.runs.map(\.host) == ["B"])
        #expect(try Self.row(cluster, build, event) == ["done|2|\(cluster.identity(of: b))"])
        let again = try a.runPixelhook(["retry"], settings: cluster.commandSettings)
        #expect(again.status == 0 && !again.output.contains(id), "\(again.output)")
        #expect(cluster.runs.count == 1)
    }
}
