import Foundation
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Two pixelhook hosts in cluster mode on this machine: one throwaway PostgreSQL, two real
/// web servers (`WebServerFixture`, each its own spool, handlers and runners, the nginx example
/// with `PIXELHOOK_CLUSTER` added), and the nginx load balancer of
/// `examples/cluster/nginx-balancer.conf` in front of both.
///
/// Every host's `default` handler appends `DELIVERY HOST` to one shared `runs.log`, so the
/// order of its lines is the order handlers ran in across hosts.
/// Sendable for the tests' concurrent senders: after `init` nothing in it changes but what
/// `deinit` stops.
final class ClusterHosts: @unchecked Sendable {
    let postgres: ThrowawayPostgres
    let hosts: [WebServerFixture]
    let directory: String
    private(set) var balancerPort = 0
    private var balancer: ChildProcess?

    var runLog: String { directory + "/runs.log" }
    var balancerURL: String { "http://127.0.0.1:\(balancerPort)/hooks/streampixel" }
    static let helperName = "pixelhook-cluster"

    /// - Parameters: lease, hold: the cluster's lease and hold, in seconds (`pixelhook cluster init`).
    ///   handlerScript: the body of each host's `default` handler; `HOST` in it is the host's name.
    ///   settings: more `PIXELHOOK_*` values for both hosts' web servers (`WebServerFixture`).
    init(lease: Int = 2, hold: Int = 3, gateway: Gateway = .nginxFcgiwrap, settings: [String: String?] = [:],
         handlerScript: String = #"echo "$PIXELHOOK_DELIVERY HOST" >> RUNLOG"#) throws {
        var template = Array("/tmp/pixelhook-cluster.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp failed") }
        directory = String(cString: made)
        postgres = try ThrowawayPostgres()
        let conninfo = postgres.conninfo
        let helper = (BuiltBinary.path as NSString).deletingLastPathComponent + "/" + ClusterHosts.helperName
        guard access(helper, X_OK) == 0 else { throw FixtureError("\(helper) is missing: swift build --build-tests builds it") }
        let initialised = try ToolRun.run(helper, ["init", "--lease", String(lease), "--hold", String(hold)],
                                          environment: ["PIXELHOOK_CLUSTER": conninfo, "PIXELHOOK_SPOOL": directory + "/none"])
        guard initialised.status == 0 else { throw FixtureError("pixelhook-cluster init: \(initialised.output)") }
        let runLog = directory + "/runs.log"
        var started: [WebServerFixture] = []
        for name in ["A", "B"] {
            let host = try WebServerFixture(gateway, settings: settings, prepare: { directory in
                // Beside the fixture's hard-linked pixelhook, where `ClusterHelper` looks.
                _ = link(helper, directory + "/" + ClusterHosts.helperName)
            }, configEdit: { text in
                // After each section's PIXELHOOK_SPOOL line: the setting that turns cluster mode on.
                var lines: [String] = []
                for line in text.components(separatedBy: "\n") {
                    lines.append(line)
                    if line.contains("fastcgi_param PIXELHOOK_SPOOL") {
                        lines.append(String(line.prefix { $0 == " " }) + "fastcgi_param PIXELHOOK_CLUSTER \"\(conninfo)\";")
                    }
                }
                guard lines.count > text.components(separatedBy: "\n").count else { throw FixtureError("no PIXELHOOK_SPOOL line to add the cluster after") }
                return lines.joined(separator: "\n")
            })
            try host.writeHandler(named: "default", handlerScript.replacingOccurrences(of: "HOST", with: name)
                .replacingOccurrences(of: "RUNLOG", with: runLog))
            started.append(host)
        }
        hosts = started
        try startBalancer()
    }

    deinit {
        if let balancer {
            Glibc.kill(balancer.pid, SIGTERM)
            balancer.reap()
        }
        // Runners may wait a lease and a hold for work; none may outlive PostgreSQL or the spools.
        let deadline = Date().addingTimeInterval(20)
        while !runners().isEmpty, Date() < deadline { usleep(50_000) }
        for pid in runners() { Glibc.kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The host's name in the cluster (`ClusterHost`): `HOSTNAME:SPOOL`.
    func identity(of host: WebServerFixture) -> String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        return "\(String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)):\(host.spool)"
    }

    /// The settings a command run on `host` needs besides its spool and handlers.
    var commandSettings: [String: String] { ["PIXELHOOK_CLUSTER": postgres.conninfo] }

    // MARK: - The load balancer

    private func startBalancer() throws {
        let example = BuiltBinary.packageRoot + "/examples/cluster/nginx-balancer.conf"
        let logs = directory + "/balancer-log", temporary = directory + "/balancer-tmp"
        for path in [logs, temporary] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        var problems: [String] = []
        for _ in 1...3 {
            let port = try unusedLocalPort()
            var text = try String(contentsOfFile: example, encoding: .utf8)
            for (from, to) in [
                ("listen 8080;", "listen 127.0.0.1:\(port);"), ("user www-data;", "user root;"),
                ("10.0.0.11:80", "127.0.0.1:\(hosts[0].port)"), ("10.0.0.12:80", "127.0.0.1:\(hosts[1].port)"),
                ("/run/nginx-balancer.pid", directory + "/balancer.pid"), ("/var/log/nginx", logs), ("/var/lib/nginx", temporary),
            ] {
                guard text.contains(from) else { throw FixtureError("\(example) no longer contains \(from): update its header and ClusterHosts") }
                text = text.replacingOccurrences(of: from, with: to)
            }
            let config = directory + "/balancer.conf"
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            let nginx = try ChildProcess.server(try InstalledTool.path("nginx"), ["-g", "daemon off;", "-p", temporary + "/", "-c", config,
                                                                               "-e", logs + "/startup.log"],
                                          environment: ["PATH": "/usr/sbin:/usr/bin:/bin"], log: logs + "/nginx.out")
            let deadline = Date().addingTimeInterval(10)
            while nginx.isRunning, Date() < deadline, ProcTable.listeningInodes(port: port).isEmpty { usleep(20_000) }
            if nginx.isRunning, !ProcTable.listeningInodes(port: port).isEmpty {
                balancer = nginx
                balancerPort = port
                return
            }
            problems.append((try? String(contentsOfFile: logs + "/nginx.out", encoding: .utf8)) ?? "nginx exited")
            if nginx.isRunning { Glibc.kill(nginx.pid, SIGKILL) }
            nginx.reap()
        }
        throw FixtureError("the balancer did not start: \(problems)")
    }

    /// POSTs through the balancer; the HTTP status (0: no answer).
    func postThroughBalancer(_ body: Data) throws -> Int {
        try post(body, to: balancerURL)
    }

    func post(_ body: Data, to url: String) throws -> Int {
        let file = directory + "/request-\(UInt64.random(in: 0...UInt64.max))"
        try body.write(to: URL(fileURLWithPath: file))
        defer { unlink(file) }
        let (_, output) = try ToolRun.run(try InstalledTool.path("curl"), [
            "-s", "--noproxy", "*", "-m", "12", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect:",
            "-H", "Content-Type: application/json", "--data-binary", "@" + file, url,
        ], environment: ["PATH": "/usr/bin:/bin"])
        return Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    // MARK: - Processes and runs

    /// Live `pixelhook-cluster` processes of this cluster's hosts (their spool is one of ours);
    /// with `includingPixelhook`, also `pixelhook` ones (CGI, a runner not yet turned helper).
    func runners(of host: WebServerFixture? = nil, includingPixelhook: Bool = false) -> [pid_t] {
        let names = ["/" + ClusterHosts.helperName] + (includingPixelhook ? ["/pixelhook"] : [])
        let spools = (host.map { [$0] } ?? hosts).map(\.spool)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { pid in
            guard pid != getpid(), ProcTable.isAlive(pid),
                  let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"),
                  names.contains(where: { exe.hasSuffix($0) }),
                  let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return spools.contains { variables.contains("PIXELHOOK_SPOOL=\($0)") }
        }
    }

    /// SIGKILLs the host's web server (nginx master and workers, fcgiwrap and its workers) and
    /// its cluster runners: the host dies as in a power cut, its spool stays.
    func killHost(_ host: WebServerFixture) {
        var victims: [pid_t] = []
        if let text = try? String(contentsOfFile: host.directory + "/nginx.pid", encoding: .utf8), let master = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            victims += [master] + ClusterHosts.descendants(of: master)
        }
        // fcgiwrap and its children, found by the socket in their command line: a child forked
        // a moment ago still has it until its exec, even once fcgiwrap is gone.
        func fcgiwrapProcesses() -> [pid_t] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap { pid_t($0) }.filter { pid in
                guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
                return String(decoding: raw, as: UTF8.self).contains(host.fcgiwrapSocket) && ProcTable.isAlive(pid)
            }
        }
        // Its pixelhook processes, the runners and the handlers they started (in sessions of
        // their own); again until none is left three looks in a row, as a CGI process forked
        // just now may be exec'ing, and one in a disk flush dies only when the flush returns
        // (seconds on a busy CI disk).
        var quiet = 0
        for _ in 1...250 where quiet < 3 {
            for pid in fcgiwrapProcesses() + runners(of: host, includingPixelhook: true) {
                victims += [pid] + ClusterHosts.descendants(of: pid)
            }
            quiet = victims.isEmpty ? quiet + 1 : 0
            for pid in victims { Glibc.kill(pid, SIGKILL) }
            victims = []
            usleep(20_000)
        }
    }

    static func descendants(of parent: pid_t) -> [pid_t] {
        ProcTable.children(of: parent).flatMap { [$0] + descendants(of: $0) }
    }

    /// The lines of the shared run log: `PROJECT/BUILD/EVENT HOST`.
    var runs: [(delivery: String, host: String)] {
        ((try? String(contentsOfFile: runLog, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }
    }

    /// Waits until the cluster has no delivery left to run (every row has a settled state) and
    /// at least `count` deliveries; throws with the cluster's rows otherwise.
    func waitUntilSettled(count: Int, timeout: Double = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String] = []
        while Date() < deadline {
            last = (try? postgres.query("SELECT count(*), count(*) FILTER (WHERE state IS NULL OR state <> 'done') FROM pixelhook_deliveries")) ?? []
            if let row = last.first {
                let parts = row.split(separator: "|").compactMap { Int($0) }
                if parts.count == 2, parts[0] >= count, parts[1] == 0 { return }
            }
            usleep(100_000)
        }
        let rows = (try? postgres.query("SELECT project||'/'||build||'/'||event, state, attempts, stored_by, ran_by FROM pixelhook_deliveries WHERE state IS DISTINCT FROM 'done'")) ?? []
        let alarms = hosts.map { (try? String(contentsOfFile: $0.spool + "/alarms.log", encoding: .utf8)) ?? "" }
        throw FixtureError("after \(timeout) s the cluster is not settled (\(last)); not done: \(rows.prefix(20)); alarms: \(alarms)")
    }
}
