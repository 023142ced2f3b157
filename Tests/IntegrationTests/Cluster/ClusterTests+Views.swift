import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `pixelhook builds` and `show` in cluster mode (docs/cluster.md, "Commands"): the whole
/// cluster's view on every host, naming who stored and who ran each delivery; this host's
/// spool alone, said on stderr and exit 69, while PostgreSQL is unreachable. In `ClusterTests`,
/// which is serialized: one database and three web servers at a time.
extension ClusterTests {
    /// Where each of the build's deliveries is, as PostgreSQL says: event → (stored_by, ran_by).
    static func placement(_ cluster: ClusterHosts, build: String) throws -> [String: (storedBy: String, ranBy: String)] {
        var placed: [String: (String, String)] = [:]
        for row in try cluster.postgres.query("SELECT event, stored_by, coalesce(ran_by, '-') FROM pixelhook_deliveries WHERE build = '\(build)'") {
            let parts = row.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 3 { placed[parts[0]] = (parts[1], parts[2]) }
        }
        return placed
    }

    /// The table line of `event` in `builds`' output.
    static func line(of event: String, in output: String) -> String? {
        output.split(separator: "\n").map(String.init).first { $0.hasPrefix("  \(event) ") }
    }

    static func waitForFile(_ path: String, timeout: Double = 20) {
        let deadline = Date().addingTimeInterval(timeout)
        while access(path, F_OK) != 0, Date() < deadline { usleep(50_000) }
    }

    @Test("builds and show on any host: the cluster's deliveries, who stored and who ran each; without PostgreSQL the spool, loudly")
    func buildsAndShowSeeTheCluster() throws {
        let cluster = try ClusterHosts(lease: 2, hold: 1)
        let (a, b) = (cluster.hosts[0], cluster.hosts[1])
        let (nameA, nameB) = (cluster.identity(of: a), cluster.identity(of: b))
        let build = "v" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let pipeline = Self.pipeline(build: build)
        // uploaded stored by A only, downloading by B first and then by A (a duplicate).
        #expect(try cluster.post(pipeline[0].body, to: a.url) == 200)
        try cluster.waitUntilSettled(count: 1)
        #expect(try cluster.post(pipeline[1].body, to: b.url) == 200)
        try cluster.waitUntilSettled(count: 2)
        #expect(try cluster.post(pipeline[1].body, to: a.url) == 200)
        let duplicate = "\(a.spool)/deliveries/\(Self.id(build, pipeline[1].event)).result"
        Self.waitForFile(duplicate)
        #expect(((try? String(contentsOfFile: duplicate, encoding: .utf8)) ?? "").contains("cluster duplicate: stored first by \(nameB)"))
        let placed = try Self.placement(cluster, build: build)
        #expect(placed[pipeline[0].event]?.storedBy == nameA && placed[pipeline[1].event]?.storedBy == nameB, "\(placed)")

        // The table, on either host: both deliveries, with the hosts that stored and ran them.
        for host in [a, b] {
            let listed = try host.runPixelhook(["builds"], settings: cluster.commandSettings)
            #expect(listed.status == 0, "\(listed.output)")
            #expect(listed.output.contains("stored by") && listed.output.contains("ran by"), "\(listed.output)")
            for (event, where_) in placed {
                let line = Self.line(of: event, in: listed.output) ?? ""
                #expect(line.contains(" done ") && line.contains(where_.storedBy) && line.hasSuffix(where_.ranBy), "\(event): \(listed.output)")
            }
            #expect(Self.line(of: pipeline[1].event, in: listed.output)?.contains("\(nameB) +1 duplicate") == true, "\(listed.output)")
        }

        // --json: the one-host shape, plus each event's `cluster` object.
        let json = try b.runPixelhook(["builds", "--json"], settings: cluster.commandSettings)
        #expect(json.status == 0, "\(json.output)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        let builds = try #require(document["builds"] as? [[String: Any]])
        let row = try #require(builds.first { $0["uploadId"] as? String == build })
        let events = try #require(row["events"] as? [[String: Any]])
        #expect(events.map { $0["event"] as? String } == [pipeline[0].event, pipeline[1].event])
        for event in events {
            let name = event["event"] as? String ?? ""
            #expect((event["handler"] as? [String: Any])?["state"] as? String == "done")
            #expect(["delivery", "status", "timestamp", "receivedAt", "sincePreviousMs"].allSatisfy { event[$0] != nil })
            let hosts = try #require(event["cluster"] as? [String: Any])
            #expect(hosts["storedBy"] as? String == placed[name]?.storedBy)
            #expect(hosts["ranBy"] as? String == placed[name]?.ranBy)
            #expect(hosts["handedOver"] as? Bool == true)
            #expect(hosts["alsoStoredBy"] as? [String] == (name == pipeline[1].event ? [nameA] : []))
        }

        // show, on the host that did not store it, and on the one that did.
        let uploaded = Self.id(build, pipeline[0].event)
        let ranBy = try #require(placed[pipeline[0].event]?.ranBy)
        let elsewhere = try b.runPixelhook(["show", uploaded], settings: cluster.commandSettings)
        #expect(elsewhere.status == 0, "\(elsewhere.output)")
        #expect(elsewhere.output.contains(" by \(nameA) (the cluster's copy)\n"), "\(elsewhere.output)")
        #expect(elsewhere.output.contains("result    the cluster's: ran by \(ranBy), ended "), "\(elsewhere.output)")
        #expect(elsewhere.output.contains("  state:"), "\(elsewhere.output)")
        #expect(elsewhere.output.contains("here      \(nameB) did not store it\n"), "\(elsewhere.output)")
        #expect(elsewhere.output.contains(ranBy == nameB ? "output    \(b.spool)/cluster/" : "output    on \(ranBy), which ran it"), "\(elsewhere.output)")
        let here = try a.runPixelhook(["show", uploaded], settings: cluster.commandSettings)
        #expect(here.status == 0, "\(here.output)")
        #expect(here.output.contains("here      \(nameA) has a copy, \(a.spool)/deliveries/"), "\(here.output)")
        #expect(here.output.contains("handed over to the cluster"), "\(here.output)")
        let nowhere = try a.runPixelhook(["show", Self.id(build, "build.saving")], settings: cluster.commandSettings)
        #expect(nowhere.status == 65, "\(nowhere.output)")

        // PostgreSQL down: this host's spool, the warning on stderr, exit 69.
        cluster.postgres.stop()
        #expect(try cluster.post(pipeline[2].body, to: a.url) == 200)
        let local = try a.runPixelhook(["builds"], settings: cluster.commandSettings)
        #expect(local.status == 69, "\(local.output)")
        #expect(local.output.contains("PostgreSQL unreachable") && local.output.contains("this host's builds only"), "\(local.output)")
        #expect(Self.line(of: pipeline[0].event, in: local.output)?.contains("done") == true, "\(local.output)")
        #expect(Self.line(of: pipeline[2].event, in: local.output)?.contains("pending") == true, "\(local.output)")
        let extracting = Self.id(build, pipeline[2].event)
        let shownLocally = try a.runPixelhook(["show", extracting], settings: cluster.commandSettings)
        #expect(shownLocally.status == 69, "\(shownLocally.output)")
        #expect(shownLocally.output.contains("payload   \(a.spool)/deliveries/") && shownLocally.output.contains("PostgreSQL unreachable"),
                "\(shownLocally.output)")

        // Back, before any runner or retry hands it over: shown as this host's, not handed over yet.
        try cluster.postgres.start()
        let waiting = try a.runPixelhook(["builds"], settings: cluster.commandSettings)
        #expect(waiting.status == 0, "\(waiting.output)")
        #expect(Self.line(of: pipeline[2].event, in: waiting.output)?.contains("\(nameA) (not handed over yet)") == true, "\(waiting.output)")
        #expect(Self.line(of: pipeline[0].event, in: waiting.output)?.hasSuffix(ranBy) == true, "\(waiting.output)")
        let notYet = try a.runPixelhook(["show", extracting], settings: cluster.commandSettings)
        #expect(notYet.status == 0 && notYet.output.contains("cluster   not handed over yet"), "\(notYet.output)")
    }
}
