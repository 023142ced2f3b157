import Foundation
import Testing
import PixelhookTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// SIGKILL at random moments (SPEC "One request" 9, "Handlers", `retry`): a stream of distinct
/// deliveries goes through a real web server while the pixelhook processes serving it (the CGI
/// programs or the FastCGI responder, and the detached `run-queue` supervisors) are killed;
/// then the responder is back, the queue idle, and `pixelhook retry` has run. Then:
/// - every delivery answered 200 is stored, byte for byte as sent, and every stored payload is
///   whole (a marker never exists without its payload), with no stray temporary file;
/// - every stored delivery's handler ran to its end at least once and ends `done`;
/// - a handler ran more than once only where its supervisor was killed (the handler logs its
///   parent's PID, 1 once reparented; the killer logs whom it killed), and never again after a
///   run whose supervisor survived;
/// - the runs of one build never overlapped, and never more than PIXELHOOK_MAX_HANDLERS ran.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct CrashInjectionTests {
    static let deliveries = 120
    static let eventsPerBuild = ["build.uploaded", "build.downloading", "build.extracting"]
    static let statuses = ["pending", "Downloading Files", "Extracting & Scanning"]
    static let maxHandlers = 4
    static let requestsInFlight = 8

    @Test("SIGKILL at random moments: acknowledged deliveries intact, each handler run once unless interrupted",
          arguments: [Gateway.nginxFastCGI, .lighttpdCGI])
    func randomKills(_ gateway: Gateway) throws {
        let started = Date()
        let server = try WebServerFixture(gateway, settings: ["PIXELHOOK_MAX_HANDLERS": String(Self.maxHandlers)])
        let runsLog = server.directory + "/runs.log"
        // Each line one O_APPEND write; the PPID is the supervisor (run-queue or retry).
        try server.writeHandler(named: "default", """
            echo "start $PIXELHOOK_DELIVERY $PPID $$" >> \(runsLog)
            sleep 0.0$(( $$ % 8 + 2 ))
            echo "end $PIXELHOOK_DELIVERY $PPID $$" >> \(runsLog)
            """)

        let bodies = (0..<Self.deliveries).map { index in
            let stage = index % Self.eventsPerBuild.count
            return (id: "\(WebServerFixture.projectID)/crash-\(index / Self.eventsPerBuild.count)/\(Self.eventsPerBuild[stage])",
                    body: Payloads.event(Self.eventsPerBuild[stage], uploadId: "crash-\(index / Self.eventsPerBuild.count)",
                                         status: Self.statuses[stage], padding: (index * 397) % 3000))
        }
        let sent = Dictionary(uniqueKeysWithValues: bodies.map { ($0.id, $0.body) })

        let killer = ProcessKiller(
            binary: server.binary,
            targets: gateway == .nginxFastCGI ? [.responder, .runQueue] : [.cgi, .runQueue],
            responder: gateway == .nginxFastCGI
                ? (socket: server.responderSocket, log: server.logDirectory + "/pixelhook-replacement.out") : nil)
        killer.start()
        var statuses = [Int](repeating: 0, count: bodies.count)
        var window: [(index: Int, request: PendingRequest)] = []
        do {
            defer { killer.stop() }
            for (index, delivery) in bodies.enumerated() {
                if window.count >= Self.requestsInFlight {
                    let oldest = window.removeFirst()
                    statuses[oldest.index] = try oldest.request.wait().status
                }
                window.append((index, try server.startRequest("POST", body: delivery.body)))
            }
            for pending in window { statuses[pending.index] = try pending.request.wait().status }
            // Keep killing a little longer: the supervisors still have a backlog of handlers.
            usleep(1_500_000)
        }
        defer { killer.stopReplacements() }
        try killer.ensureResponder()
        let sending = Date().timeIntervalSince(started)

        // Quiet: no supervisor left, no handler process alive (orphans included; one that never
        // logged its end was stopped by pixelhook as a leftover of a later run).
        let quietStart = Date()
        var busy: (supervisors: Int, handlers: Int) = (0, 0)
        repeat {
            let log = RunLog(server.lines(of: runsLog))
            busy = (server.pixelhookProcesses().filter { $0.role == .runQueue }.count,
                    log.openPIDs.filter(ProcTable.isAlive).count)
            if busy == (0, 0) { break }
            usleep(50_000)
        } while Date().timeIntervalSince(quietStart) < 30
        let quiet = String(format: "quiet after %.1f s%@", Date().timeIntervalSince(quietStart),
                           busy == (0, 0) ? "" : " (still \(busy.supervisors) supervisors, \(busy.handlers) handlers)")
        try StoredAttempts.endedLongAgo(spool: server.spool)  // past the back-off (SPEC "Retries")
        let retry = try server.runPixelhook(["retry"], settings: ["PIXELHOOK_MAX_HANDLERS": String(Self.maxHandlers)])
        #expect(retry.status == 0, "pixelhook retry: \(retry)")
        let runsBeforeSecondRetry = server.lines(of: runsLog).count
        let again = try server.runPixelhook(["retry"], settings: ["PIXELHOOK_MAX_HANDLERS": String(Self.maxHandlers)])
        #expect(again.status == 0 && again.output.isEmpty, "a second retry found more to do: \(again)")
        #expect(server.lines(of: runsLog).count == runsBeforeSecondRetry)

        // What the killer did, and that it mattered.
        let kills = killer.kills
        // A handler whose supervisor died before it read its parent's PID was reparented: PID 1.
        let killedSupervisors = Set(kills.filter { $0.role == .runQueue }.map(\.pid)).union([1])
        let acknowledged = bodies.indices.filter { statuses[$0] == 200 }
        let summary = "\(gateway): \(acknowledged.count)/\(bodies.count) answered 200, kills "
            + "\(Dictionary(grouping: kills, by: \.role).mapValues(\.count).map { "\($0.key.rawValue) \($0.value)" }.sorted()), "
            + "responders started \(killer.replacementCount), \(quiet), retry ran \(retry.output.split(separator: "\n").count), "
            + String(format: "sending %.1f s, total %.1f s", sending, Date().timeIntervalSince(started))
        print("crash-injection " + summary)
        #expect(statuses.allSatisfy { [200, 500, 502, 503, 504, 0].contains($0) }, "unexpected answers: \(statuses) \(summary)")
        #expect(acknowledged.count >= bodies.count / 2, "too few answered to tell anything: \(summary)")
        for role in killer.targets {
            #expect(kills.contains { $0.role == role }, "no \(role) process was killed: \(summary)")
        }

        // 1. Acknowledged means stored, byte for byte; stored means whole.
        let stored = Set(server.storedDeliveries)
        for index in acknowledged {
            let path = "\(server.spool)/deliveries/\(bodies[index].id).json"
            #expect(FileManager.default.contents(atPath: path) == bodies[index].body,
                    "\(bodies[index].id) was answered 200 but its payload is missing or differs")
        }
        for id in stored {
            let contents = FileManager.default.contents(atPath: "\(server.spool)/deliveries/\(id).json")
            #expect(sent[id] != nil && contents == sent[id], "\(id).json is not the body sent (\(contents?.count ?? -1) bytes)")
        }
        let known = try Regex(#"^[^/]+/[^/]+/(\.lock|\.arrivals|[A-Za-z0-9._-]+\.(json|result|output))$"#)
        let stray = server.spoolEntries().filter { (try? known.wholeMatch(in: $0)) == nil }
        #expect(stray.isEmpty, "left behind in the spool: \(stray)")

        // 2. Every stored delivery ran to the end at least once, and is done.
        let log = RunLog(server.lines(of: runsLog), killed: killedSupervisors)
        for id in stored.sorted() {
            let result = JSONValue.parse(FileManager.default.contents(atPath: "\(server.spool)/deliveries/\(id).result") ?? Data())
            #expect(result?["state"] == "done", "\(id): result \(result?.description ?? "missing")")
            let runs = log.runs[id] ?? []
            #expect(runs.contains { $0.ended }, "\(id): its handler never ran to its end: \(runs)")
            // 3. Run again only after a run whose supervisor was killed.
            let repeated = runs.dropLast().filter { !killedSupervisors.contains($0.parent) }
            #expect(repeated.isEmpty, "\(id) ran again after a run whose supervisor was not killed: \(runs), killed \(killedSupervisors.sorted())")
        }
        #expect(Set(log.runs.keys).isSubset(of: stored), "handlers ran for deliveries not stored: \(Set(log.runs.keys).subtracting(stored))")

        // 4. One build at a time, and the global cap: kept among supervised handlers...
        let supervisedOverlaps = log.overlaps.filter { !$0.orphan }
        #expect(supervisedOverlaps.isEmpty, "runs of one build overlapped: \(supervisedOverlaps.prefix(5))")
        #expect(log.maxSupervised <= Self.maxHandlers, "\(log.maxSupervised) handlers ran at once, cap \(Self.maxHandlers)")
        // ...nor with a handler whose supervisor was SIGKILLed: it holds its build's lock and
        // its slot itself (fd 3 and 4), so nothing starts beside it until it ends.
        let orphanOverlaps = log.overlaps.filter(\.orphan)
        #expect(orphanOverlaps.isEmpty, "runs of one build overlapped an orphaned run: \(orphanOverlaps.prefix(5))")
        #expect(log.maxConcurrent <= Self.maxHandlers, "\(log.maxConcurrent) handlers ran at once counting orphans, cap \(Self.maxHandlers)")
        let leftovers = server.pixelhookProcesses().filter { ![.responder, .supervisor].contains($0.role) }
        #expect(leftovers.isEmpty, "pixelhook processes left running: \(leftovers)")
    }
}

/// `runs.log` as written by the test's handler: `start|end DELIVERY PPID PID`, in write order.
/// Runs whose supervisor (PPID) was killed are orphans: they go on without it.
struct RunLog {
    struct Run: CustomStringConvertible {
        let pid: String
        let parent: pid_t
        var ended = false
        var description: String { "pid \(pid) parent \(parent)\(ended ? "" : " (no end)")" }
    }

    /// By delivery id, in start order.
    private(set) var runs: [String: [Run]] = [:]
    /// Handler PIDs of the runs started and not (yet) ended.
    private(set) var openPIDs: [pid_t] = []
    /// The most runs open at once: all of them, and those whose supervisor was not killed.
    private(set) var maxConcurrent = 0
    private(set) var maxSupervised = 0
    /// A run that started while another run of its build was open; `orphan`: that other run's
    /// supervisor had been killed.
    private(set) var overlaps: [(id: String, other: String, orphan: Bool)] = []

    init(_ lines: [String], killed: Set<pid_t> = []) {
        var open: [String: (id: String, parent: pid_t)] = [:]  // handler PID -> delivery
        func build(_ id: String) -> Substring { id[..<(id.lastIndex(of: "/") ?? id.endIndex)] }
        for line in lines {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 4, let parent = pid_t(fields[2]) else { continue }
            let (kind, id, pid) = (fields[0], fields[1], fields[3])
            if kind == "start" {
                for other in open.values where build(other.id) == build(id) {
                    overlaps.append((id, other.id, killed.contains(other.parent)))
                }
                open[pid] = (id, parent)
                runs[id, default: []].append(Run(pid: pid, parent: parent))
                maxConcurrent = max(maxConcurrent, open.count)
                maxSupervised = max(maxSupervised, open.values.filter { !killed.contains($0.parent) }.count)
            } else if kind == "end", open.removeValue(forKey: pid) != nil,
                      let index = runs[id]?.lastIndex(where: { $0.pid == pid && !$0.ended }) {
                runs[id]![index].ended = true
            }
        }
        openPIDs = open.keys.compactMap { pid_t($0) }
    }
}

/// Kills this fixture's pixelhook processes with SIGKILL at random moments from a thread of its
/// own, by PID found in /proc (never by name), and restarts a killed FastCGI responder.
final class ProcessKiller: @unchecked Sendable {
    typealias Role = WebServerFixture.PixelhookRole
    let binary: String
    let targets: [Role]
    private let responder: (socket: String, log: String)?
    private let lock = NSLock()
    private var stopping = false
    private var killed: [WebServerFixture.PixelhookProcess] = []
    private var replacements: [ChildProcess] = []
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameter responder: when set, the serving responder (one of `targets`) is killed about
    ///   once a second; its supervisor starts the next (`ensureResponder` covers a dead supervisor).
    init(binary: String, targets: [Role], responder: (socket: String, log: String)?) {
        self.binary = binary
        self.targets = targets
        self.responder = responder
    }

    var kills: [WebServerFixture.PixelhookProcess] { lock.withLock { killed } }
    var replacementCount: Int { lock.withLock { replacements.count } }

    func start() {
        Thread.detachNewThread { [self] in
            run()
            finished.signal()
        }
    }

    /// Stops killing; returns once the thread has ended.
    func stop() {
        lock.withLock { stopping = true }
        finished.wait()
    }

    /// After `stop`: a responder is running (the last one may have been killed).
    func ensureResponder() throws {
        guard let responder else { return }
        if !WebServerFixture.processes(running: binary).contains(where: { $0.role == .supervisor }) {
            let process = try WebServerFixture.startResponder(binary: binary, socket: responder.socket, log: responder.log)
            lock.withLock { replacements.append(process) }
        }
    }

    /// Stops the responders this killer started (TERM, then KILL) and reaps them.
    func stopReplacements() {
        let started = lock.withLock { replacements }
        for process in started where process.isRunning { kill(process.pid, SIGTERM) }
        for process in started {
            process.reap(timeout: 5)
            if process.isRunning {
                kill(process.pid, SIGKILL)
                process.reap()
            }
        }
    }

    private func run() {
        let others = targets.filter { $0 != .responder }
        var nextKill = Date().addingTimeInterval(.random(in: 0.02...0.15))
        var wanted = others.randomElement()
        var nextResponderKill = Date().addingTimeInterval(.random(in: 0.5...1.0))
        while !lock.withLock({ stopping }) {
            usleep(1_000)
            let now = Date()
            let live = WebServerFixture.processes(running: binary)
            // The serving responder dies as a crash would; its supervisor starts the next one.
            if responder != nil, now >= nextResponderKill,
               let victim = live.first(where: { $0.role == .responder }) {
                kill(victim.pid, SIGKILL)
                lock.withLock { killed.append(victim) }
                nextResponderKill = now.addingTimeInterval(.random(in: 0.7...1.3))
            }
            guard now >= nextKill else { continue }
            // The role chosen for this kill, else (after 100 ms without one) any other target.
            let candidates = live.filter { $0.role == wanted }
            let fallback = now.timeIntervalSince(nextKill) > 0.1 ? live.filter { others.contains($0.role) } : []
            guard let victim = candidates.randomElement() ?? fallback.randomElement() else { continue }
            kill(victim.pid, SIGKILL)
            lock.withLock { killed.append(victim) }
            nextKill = now.addingTimeInterval(.random(in: 0.02...0.15))
            wanted = others.randomElement()
        }
    }
}
