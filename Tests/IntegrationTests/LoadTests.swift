import Foundation
import PixelhookTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A burst through a real web server (the small CI version of bench.py rows B1/B3): distinct
/// deliveries, each sent twice (the copies a few requests apart, so that some race), at a fixed
/// concurrency. Then, once the handlers have drained: no answer but 2xx, each delivery stored
/// once and its handler run exactly once, never more than PIXELHOOK_MAX_HANDLERS handlers at
/// once, and the FastCGI responder's RSS flat.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct LoadTests {
    static let distinct = 300
    static let concurrency = 16
    static let maxHandlers = 4

    @Test("300 new + 300 duplicate deliveries at concurrency 16: all 2xx, one handler run each, cap kept",
          arguments: [Gateway.nginxFastCGI, .lighttpdCGI])
    func burst(_ gateway: Gateway) throws {
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_MAX_HANDLERS": String(Self.maxHandlers)])
        try LoadHandler.install(in: server)

        // Warm-up (the responder's worker threads touch their stacks), then the baseline RSS.
        let warmUp = Payloads.event("build.uploaded", uploadId: "warm-up")
        _ = try Burst.run(url: server.url, bodies: Array(repeating: warmUp, count: 4 * Self.concurrency),
                          concurrency: Self.concurrency, directory: server.directory)
        try server.waitForHandlers(count: 1, timeout: 20)
        let responder = gateway == .nginxFastCGI ? server.servingResponderPID() : nil
        let rssBefore = responder.flatMap(ProcTable.residentKiB)

        let bodies = (0..<Self.distinct).map {
            Payloads.event("build.uploaded", uploadId: String(format: "load-%06d", $0), padding: $0 % 512)
        }
        let burst = try Burst.run(url: server.url, bodies: Burst.withDuplicates(bodies, lag: Self.concurrency / 2),
                                  concurrency: Self.concurrency, directory: server.directory)
        let results = try server.waitForHandlers(count: Self.distinct + 1, timeout: 120)
        let rssAfter = responder.flatMap(ProcTable.residentKiB)

        let outcomes = Dictionary(grouping: server.requestLog.compactMap { $0["outcome"]?.string }, by: { $0 }).mapValues(\.count)
        let runs = LoadHandler.runs(in: server)
        let summary = Burst.summary(
            name: gateway.rawValue, distinct: Self.distinct, burst: burst, runs: runs.count,
            distinctRuns: Set(runs.map(\.delivery)).count, maxConcurrent: runs.map(\.concurrent).max() ?? 0,
            cap: Self.maxHandlers, rss: rssBefore.flatMap { before in rssAfter.map { (before, $0) } })
        print(summary)

        #expect(burst.statuses.count == 2 * Self.distinct)
        #expect(burst.non2xx == 0, "\(summary); statuses \(Dictionary(grouping: burst.statuses, by: { $0 }).mapValues(\.count))")
        #expect(outcomes["stored"] == Self.distinct + 1, "\(outcomes)")
        #expect(outcomes["duplicate"] == Self.distinct + 4 * Self.concurrency - 1, "\(outcomes)")
        #expect(results.count == Self.distinct + 1)
        #expect(results.values.allSatisfy { $0["state"] == "done" }, "\(results.filter { $0.value["state"] != "done" }.prefix(5))")
        #expect(runs.count == Self.distinct + 1, "\(summary)")
        #expect(Set(runs.map(\.delivery)).count == runs.count, "a handler ran twice: \(summary)")
        #expect(runs.allSatisfy { $0.concurrent <= Self.maxHandlers }, "\(summary)")
        if let rssBefore, let rssAfter {
            #expect(rssAfter - rssBefore < 4096, "the responder grew from \(rssBefore) to \(rssAfter) KiB")
        }
    }
}

/// Issue #12, item 3: a burst far above the responder's workers waits in its listening socket's
/// backlog (the system's maximum) instead of being refused with 502.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ConcurrentBurstTests {
    static let connections = 2000

    /// nginx sized for the burst: connections (client + upstream) and descriptors per worker,
    /// and its own listen backlog.
    static func roomFor2000(_ config: String) throws -> String {
        guard config.contains("worker_connections 1024;"), config.contains("worker_processes auto;"),
              let listen = config.range(of: "listen 127.0.0.1:"),
              let end = config[listen.upperBound...].firstIndex(of: ";") else {
            throw FixtureError("the example's events/listen lines changed: update ConcurrentBurstTests.roomFor2000")
        }
        var text = config
        text.insert(contentsOf: " backlog=4096", at: end)
        return text.replacingOccurrences(of: "worker_connections 1024;", with: "worker_connections 8192;")
            .replacingOccurrences(of: "worker_processes auto;", with: "worker_processes auto;\nworker_rlimit_nofile 20000;")
    }

    @Test("2,000 POSTs at once through nginx to pixelhook fastcgi --listen: every one answered 200, none 5xx")
    func twoThousandAtOnce() throws {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        try #require(limit.rlim_cur > rlim_t(Self.connections + 100), "RLIMIT_NOFILE \(limit.rlim_cur) is too low for the burst")

        let server = try WebServerFixture(.nginxFastCGI, configEdit: Self.roomFor2000)
        try server.writeRecorder(named: "default")
        // One payload: the first is stored, the other 1,999 are duplicates (no 2,000 handlers).
        let body = Array(Payloads.seed("build.approved"))
        let request = RawHTTPConnection.head(path: server.gateway.path, contentLength: body.count) + body
        // Every connection is open and its request sent before the first answer is read.
        let connections = try (0..<Self.connections).map { _ in try RawHTTPConnection(port: server.port) }
        for connection in connections { try connection.send(request) }
        let replies = try connections.map { connection in
            defer { connection.close() }
            return try connection.readReply(timeout: 60)
        }
        let statuses = Dictionary(grouping: replies.map(\.status), by: { $0 }).mapValues(\.count)
        #expect(statuses == [200: Self.connections], "\(statuses)")
        #expect(replies.filter { $0.json?["duplicate"] == false }.count == 1)
        try server.waitForHandlers(count: 1)
        #expect(server.runs.count == 1)
    }
}

/// The handler of a load run: one line `DELIVERY RUNNING` per run in `runs.log`, where RUNNING
/// counts the marker files in `running/`. Each run creates its marker (named by its PID) first
/// and removes it last, all while it holds its slot, so RUNNING never exceeds the handlers
/// actually running: a count above PIXELHOOK_MAX_HANDLERS proves the cap was broken.
enum LoadHandler {
    static func install(in server: WebServerFixture) throws {
        let running = server.directory + "/running"
        try FileManager.default.createDirectory(atPath: running, withIntermediateDirectories: true)
        try server.writeHandler(named: "default", """
            : > \(running)/$$
            set -- \(running)/*
            echo "$PIXELHOOK_DELIVERY $#" >> \(server.directory)/runs.log
            sleep 0.01
            rm -f \(running)/$$
            """)
    }

    static func runs(in server: WebServerFixture) -> [(delivery: String, concurrent: Int)] {
        server.lines(of: server.directory + "/runs.log").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, let count = Int(fields[1]) else { return nil }
            return (String(fields[0]), count)
        }
    }
}

/// Many POSTs at a fixed concurrency from one `curl --parallel` (keep-alive connections, one
/// process however many requests), each body in its own transfer.
enum Burst {
    struct Outcome {
        let statuses: [Int]
        let seconds: Double
        var non2xx: Int { statuses.filter { !(200..<300).contains($0) }.count }
    }

    /// Each body twice: the second copy `lag` bodies behind the first, so with enough
    /// concurrency the two are often in flight together.
    static func withDuplicates(_ bodies: [Data], lag: Int) -> [Data] {
        var order: [Data] = []
        for index in 0..<(bodies.count + lag) {
            if index < bodies.count { order.append(bodies[index]) }
            if index >= lag { order.append(bodies[index - lag]) }
        }
        return order
    }

    static func run(url: String, bodies: [Data], concurrency: Int, directory: String) throws -> Outcome {
        let config = directory + "/burst-\(UInt32.random(in: 0...UInt32.max)).curl"
        var entries: [String] = []
        for body in bodies {
            let escaped = String(decoding: body, as: UTF8.self)
                .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            entries.append("""
                url = "\(url)"
                header = "Content-Type: application/json"
                header = "Expect:"
                data-binary = "\(escaped)"
                output = "/dev/null"
                write-out = "%{http_code}\\n"

                """)
        }
        // `next` separates transfers; one after the last would be an empty transfer.
        let text = entries.joined(separator: "next\n")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let codes = config + ".codes"
        let started = Date()
        let process = try ChildProcess(try InstalledTool.path("curl"), [
            "-s", "--noproxy", "*", "-m", "60", "--parallel", "--parallel-immediate", "--parallel-max", String(concurrency), "-K", config,
        ], environment: ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"], stdout: codes, stderr: "/dev/null")
        process.waitForExit()  // bounded by curl's -m
        let seconds = Date().timeIntervalSince(started)
        let data = FileManager.default.contents(atPath: codes) ?? Data()
        let statuses = String(decoding: data, as: UTF8.self).split(separator: "\n").map { Int($0) ?? 0 }
        return Outcome(statuses: statuses, seconds: seconds)
    }

    /// The line bench.py rows B1/B3 print too.
    static func summary(name: String, distinct: Int, burst: Outcome, runs: Int, distinctRuns: Int, maxConcurrent: Int,
                        cap: Int, rss: (before: Int, after: Int)?) -> String {
        var line = "load \(name): \(distinct) new + \(burst.statuses.count - distinct) dup, non2xx \(burst.non2xx), "
            + "handler runs \(runs) (\(distinctRuns) distinct)/\(distinct + 1), max concurrent \(maxConcurrent)/\(cap)"
        if let rss {
            line += String(format: ", responder RSS %.1f -> %.1f MiB", Double(rss.before) / 1024, Double(rss.after) / 1024)
        }
        return line + String(format: ", %.0f req/s", Double(burst.statuses.count) / burst.seconds)
    }
}
