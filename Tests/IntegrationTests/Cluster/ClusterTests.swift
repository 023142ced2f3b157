import Foundation
import PixelhookTestSupport
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Cluster mode (docs/cluster.md) with real parts: a throwaway PostgreSQL, two hosts (nginx +
/// fcgiwrap + the one-shot CGI `pixelhook`, each with its own spool), the example load balancer
/// in front. Serialized: each test starts a database and three web servers on a shared machine.
@Suite(.serialized)
struct ClusterTests {
    static let stages = ["build.uploaded", "build.downloading", "build.extracting", "build.saving", "build.distributing", "build.approved"]
    static let statuses = ["pending", "Downloading Files", "Extracting & Scanning", "Saving to Repository", "Distribute", "Approved"]

    /// The seeds' pipeline for one build: the documented payloads (examples/events/) where there
    /// is one, the same shape with the stage's status for the others; `rejectAt` ends it there
    /// with `build.rejected`.
    static func pipeline(build: String, rejectAt: Int? = nil) -> [(event: String, body: Data)] {
        let count = rejectAt.map { $0 + 1 } ?? stages.count
        var events = (0..<count).map { index -> (String, Data) in
            let event = stages[index]
            if Payloads.seeds.contains(where: { $0.event == event }) {
                let seed = String(decoding: Payloads.seed(event), as: UTF8.self)
                return (event, Data(seed.replacingOccurrences(of: "665a2b3c4d5e6f7a8b9c0e1f", with: build).utf8))
            }
            return (event, Payloads.event(event, uploadId: build, status: statuses[index]))
        }
        if rejectAt != nil {
            let seed = String(decoding: Payloads.seed("build.rejected"), as: UTF8.self)
            events.append(("build.rejected", Data(seed.replacingOccurrences(of: "665a2b3c4d5e6f7a8b9c0e1f", with: build).utf8)))
        }
        return events
    }

    static func id(_ build: String, _ event: String) -> String { "\(WebServerFixture.projectID)/\(build)/\(event)" }

    /// Every delivery ran in its build's stage order (the order of the first run of each).
    static func expectStageOrder(_ runs: [(delivery: String, host: String)], builds: [String: [String]]) {
        for (build, events) in builds {
            var seen: [String] = []
            for run in runs {
                let parts = run.delivery.split(separator: "/")
                guard parts.count == 3, parts[1] == build, !seen.contains(String(parts[2])) else { continue }
                seen.append(String(parts[2]))
            }
            #expect(seen == events, "build \(build) ran in the order \(seen)")
        }
    }

    /// Waits until the cluster has run every expected delivery; each ran exactly once, in its
    /// build's stage order.
    static func expectEachRunOnceInOrder(_ cluster: ClusterHosts, expected: [String: [String]]) throws {
        let total = expected.values.map(\.count).reduce(0, +)
        try cluster.waitUntilSettled(count: total, timeout: 90)
        let runs = cluster.runs
        let counts = Dictionary(runs.map { ($0.delivery, 1) }, uniquingKeysWith: +)
        #expect(counts.count == total)
        #expect(counts.values.allSatisfy { $0 == 1 }, "run more than once: \(counts.filter { $0.value > 1 })")
        expectStageOrder(runs, builds: expected)
    }

    @Test("each event sent to both hosts: every handler runs once, in stage order per build",
          arguments: [Gateway.nginxFcgiwrap, .nginxFastCGI])
    func duplicatesAcrossHosts(gateway: Gateway) throws {
        let cluster = try ClusterHosts(lease: 2, hold: 2, gateway: gateway)
        let builds = (0..<12).map { String(format: "b%02d", $0) + String(UInt32.random(in: 0...UInt32.max), radix: 16) }
        var expected: [String: [String]] = [:]
        for (index, build) in builds.enumerated() { expected[build] = Self.pipeline(build: build, rejectAt: index % 4 == 3 ? 2 : nil).map(\.event) }
        let statuses = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { sender in
            for (index, build) in builds.enumerated() where index % 4 == sender {
                for (event, body) in Self.pipeline(build: build, rejectAt: index % 4 == 3 ? 2 : nil) {
                    _ = event
                    // First to one host, then the same event to the other, as a sender that sends twice.
                    let first = cluster.hosts[index % 2], second = cluster.hosts[(index + 1) % 2]
                    let answers = [(try? cluster.post(body, to: first.url)) ?? 0, (try? cluster.post(body, to: second.url)) ?? 0]
                    statuses.withLock { $0 += answers }
                }
            }
        }
        let total = expected.values.map(\.count).reduce(0, +)
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: 2 * total))
        try Self.expectEachRunOnceInOrder(cluster, expected: expected)
        // Both hosts stored every event; the cluster kept one copy and knows the other.
        let copies = try cluster.postgres.query("SELECT count(*) FROM pixelhook_deliveries WHERE cardinality(also_stored_by) = 1")
        #expect(copies == [String(total)])
        // The local copy that lost says so in its result.
        let duplicateResults = cluster.hosts.flatMap { host in
            host.storedDeliveries.compactMap { id in try? String(contentsOfFile: "\(host.spool)/deliveries/\(id).result", encoding: .utf8) }
        }.filter { $0.contains("cluster duplicate: stored first by") }
        #expect(duplicateResults.count == total)

        // `pixelhook cluster show` and `builds` see the whole cluster: who stored, who ran.
        let (first, second) = (cluster.hosts[0], cluster.hosts[1])
        let replayed = Self.id(builds[0], "build.uploaded")
        let shown = try second.runPixelhook(["cluster", "show", replayed], settings: cluster.commandSettings)
        #expect(shown.status == 0)
        // Whichever host handed it over first is the one that stored it; the other, a duplicate.
        let hosts = [cluster.identity(of: first), cluster.identity(of: second)]
        #expect(hosts.contains { shown.output.contains("stored by: \($0) at") }, "\(shown.output)")
        #expect(hosts.contains { shown.output.contains("also stored by (duplicates, not run): \($0)\n") }, "\(shown.output)")
        #expect(shown.output.contains("ran by:    "), "\(shown.output)")
        let listed = try first.runPixelhook(["cluster", "builds"], settings: cluster.commandSettings)
        #expect(listed.status == 0)
        #expect(builds.allSatisfy { listed.output.contains("\(WebServerFixture.projectID)/\($0)\t") }, "\(listed.output)")
        let metrics = try first.runPixelhook(["cluster", "metrics"], settings: cluster.commandSettings)
        #expect(metrics.output.contains("pixelhook_cluster_deliveries{state=\"done\"} \(total)\n"), "\(metrics.output)")
        #expect(metrics.output.contains("pixelhook_cluster_deliveries{state=\"waiting\"} 0\n"), "\(metrics.output)")
        #expect(metrics.output.contains("pixelhook_cluster_oldest_waiting_seconds 0\n"), "\(metrics.output)")
        // `replay` runs a delivery again on whichever host, counted as its second attempt.
        let replay = try second.runPixelhook(["replay", builds[0], "--event", "build.uploaded"], settings: cluster.commandSettings)
        #expect(replay.status == 0, "\(replay.output)")
        #expect(replay.output.contains("\(replayed): done"), "\(replay.output)")
        #expect(cluster.runs.filter { $0.delivery == replayed }.count == 2)
        let attempts = "project = '\(WebServerFixture.projectID)' AND build = '\(builds[0])' AND event = 'build.uploaded'"
        #expect(try cluster.postgres.query("SELECT state, attempts FROM pixelhook_deliveries WHERE \(attempts)") == ["done|2"])
    }

    @Test("a host killed mid-stream: every answered delivery runs, once unless its runner died mid-handler; order holds")
    func hostKilledMidStream() throws {
        // Handlers take a moment, so that some are running when the host dies.
        let cluster = try ClusterHosts(lease: 2, hold: 20, handlerScript: #"echo "$PIXELHOOK_DELIVERY HOST" >> RUNLOG; sleep 0.2"#)
        let builds = (0..<12).map { String(format: "k%02d", $0) + String(UInt32.random(in: 0...UInt32.max), radix: 16) }
        let answered = Mutex<[String]>([]), refused = Mutex<[String]>([]), sent = Mutex(0)
        let killed = Mutex(false)
        DispatchQueue.concurrentPerform(iterations: 4) { sender in
            for (index, build) in builds.enumerated() where index % 4 == sender {
                for (event, body) in Self.pipeline(build: build) {
                    let status = (try? cluster.postThroughBalancer(body)) ?? 0
                    if status == 200 {
                        answered.withLock { $0.append(Self.id(build, event)) }
                    } else {
                        refused.withLock { $0.append(Self.id(build, event)) }
                    }
                    let count = sent.withLock { $0 += 1; return $0 }
                    if count == 24 {
                        killed.withLock { $0 = true }
                        cluster.killHost(cluster.hosts[0])
                    }
                }
            }
        }
        #expect(killed.withLock { $0 })
        let victim = cluster.hosts[0]
        #expect(cluster.runners(of: victim).isEmpty, "the killed host's runners are gone")
        // The host is back (rebooted): its cron `retry` hands over what it stored and had not.
        let retry = try victim.runPixelhook(["retry"], settings: cluster.commandSettings)
        #expect(retry.status == 0, "\(retry.output)")
        let answeredIDs = answered.withLock { $0 }
        #expect(refused.withLock { $0 }.isEmpty, "the balancer passes a POST to the other host when one dies")
        try cluster.waitUntilSettled(count: answeredIDs.count, timeout: 90)
        let runs = cluster.runs
        let counts = Dictionary(runs.map { ($0.delivery, 1) }, uniquingKeysWith: +)
        for id in answeredIDs {
            #expect((1...2).contains(counts[id] ?? 0), "\(id) ran \(counts[id] ?? 0) times")
            if counts[id] == 2 {
                // Twice only where the killed host's runner had started it.
                #expect(runs.first { $0.delivery == id }?.host == "A", "\(id) ran twice, first on \(runs.first { $0.delivery == id }?.host ?? "-")")
            }
        }
        #expect(counts.values.filter { $0 == 2 }.count <= 4, "at most one handler per runner slot was cut")
        var expected: [String: [String]] = [:]
        for build in builds { expected[build] = Self.pipeline(build: build).map(\.event).filter { answeredIDs.contains(Self.id(build, $0)) } }
        Self.expectStageOrder(runs, builds: expected)
        #expect(Set(runs.map(\.host)) == ["A", "B"], "both hosts ran handlers")
    }

    @Test("PostgreSQL stopped: every POST still 200, handlers wait, then run once when it is back")
    func postgresDown() throws {
        let cluster = try ClusterHosts(lease: 2, hold: 10)
        cluster.postgres.stop()
        let builds = (0..<3).map { "p\($0)" + String(UInt32.random(in: 0...UInt32.max), radix: 16) }
        var expected: [String: [String]] = [:]
        for build in builds {
            expected[build] = Self.pipeline(build: build).map(\.event)
            for (_, body) in Self.pipeline(build: build) { #expect(try cluster.postThroughBalancer(body) == 200) }
        }
        usleep(1_500_000)
        #expect(cluster.runs.isEmpty, "nothing runs without the cluster: \(cluster.runs)")
        let alarms = cluster.hosts.map { (try? String(contentsOfFile: $0.spool + "/alarms.log", encoding: .utf8)) ?? "" }
        #expect(alarms.allSatisfy { $0.contains("PostgreSQL unreachable") }, "\(alarms)")
        try cluster.postgres.start()
        // The next delivery's runner hands over what waited on its host; `retry` does on the other.
        let late = "p-late" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        expected[late] = ["build.uploaded"]
        #expect(try cluster.post(Self.pipeline(build: late)[0].body, to: cluster.hosts[1].url) == 200)
        let retry = try cluster.hosts[0].runPixelhook(["retry"], settings: cluster.commandSettings)
        #expect(retry.status == 0, "\(retry.output)")
        try Self.expectEachRunOnceInOrder(cluster, expected: expected)
    }

    @Test("a runner paused past its lease cannot mark the delivery done after another host took it over")
    func fencing() throws {
        let cluster = try ClusterHosts(lease: 2, hold: 2)
        let (host, other) = (cluster.hosts[0], cluster.hosts[1])
        let marker = cluster.directory + "/runner.pid"
        try host.writeHandler(named: "default", """
            echo $PPID > \(marker)
            sleep 4
            echo "$PIXELHOOK_DELIVERY A" >> \(cluster.runLog)
            """)
        let build = "f" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let (event, body) = Self.pipeline(build: build)[0]
        #expect(try cluster.post(body, to: host.url) == 200)
        let deadline = Date().addingTimeInterval(15)
        while access(marker, F_OK) != 0, Date() < deadline { usleep(20_000) }
        let text = try String(contentsOfFile: marker, encoding: .utf8)
        let runner = try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(cluster.runners(of: host).contains(runner))
        kill(runner, SIGSTOP)
        defer { kill(runner, SIGCONT) }
        usleep(3_000_000)  // past the 2 s lease
        // Another host takes the build over: its retry claims the expired lease and runs it.
        let retry = try other.runPixelhook(["retry"], settings: cluster.commandSettings)
        #expect(retry.status == 0, "\(retry.output)")
        let key = "project = '\(WebServerFixture.projectID)' AND build = '\(build)' AND event = '\(event)'"
        let takenOver = "done|2|\(cluster.identity(of: other))"
        #expect(try cluster.postgres.query("SELECT state, attempts, ran_by FROM pixelhook_deliveries WHERE \(key)") == [takenOver])
        // The paused runner wakes, its handler ends: the fence refuses its result.
        kill(runner, SIGCONT)
        let gone = Date().addingTimeInterval(20)
        while ProcTable.isAlive(runner), Date() < gone { usleep(50_000) }
        #expect(!ProcTable.isAlive(runner))
        #expect(try cluster.postgres.query("SELECT state, attempts, ran_by FROM pixelhook_deliveries WHERE \(key)") == [takenOver])
        #expect(try cluster.postgres.query("SELECT fence FROM pixelhook_builds WHERE build = '\(build)'") == ["2"])
        let alarms = (try? String(contentsOfFile: host.spool + "/alarms.log", encoding: .utf8)) ?? ""
        #expect(alarms.contains("lease of") && alarms.contains("lost"), "\(alarms)")
        // At least once: both runs happened, the handler saw the delivery twice.
        #expect(cluster.runs.map(\.host).sorted() == ["A", "B"])
    }
}
