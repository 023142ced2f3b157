#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import PixelhookRuntime

// `pixelhook-cluster`: cluster mode's commands, with libpq (docs/cluster.md). Started by
// `pixelhook` (its runner, `retry`, `pixelhook cluster …`) with the settings in the
// environment, or by hand. Arguments are read by hand: a runner starts per burst of deliveries,
// and argument parsing by reflection cost a runner 3 ms (`RunQueue`).

let usage = """
    usage: pixelhook-cluster COMMAND (settings from PIXELHOOK_* variables; PIXELHOOK_CLUSTER is the libpq connection string)
      init [--lease SECONDS] [--hold SECONDS]  create or migrate the schema (idempotent); set the lease and the hold
      builds                                   the cluster's builds: deliveries, states, which hosts stored and ran them
      show PROJECT/BUILD/EVENT                 one delivery: which host stored it, which ran it, its result
      metrics                                  the cluster's state in Prometheus' text format
      push                                     hand this host's waiting deliveries over to the cluster
      retry [--dry-run]                        push, make the due failed deliveries wait again, run what waits
      replay UPLOAD [--event E] [--project P]  run a build's deliveries again, whatever their result
      run-queue [--slot N]                     the runner pixelhook starts after each stored delivery
      builds-view [--json] [--project P] [--limit N]  `pixelhook builds` in cluster mode: the cluster's builds and this host's
      show-view PROJECT/BUILD/EVENT            `pixelhook show` in cluster mode: the cluster's copy and this host's
      metrics-view                             the cluster's metrics for `pixelhook metrics` and GET ?view=metrics
      status-view                              the status page (GET ?view=builds) of the whole cluster
    """

func fail(_ message: String, status: Int32) -> Never {
    let line = "pixelhook-cluster: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(status)
}

func say(_ text: String) {
    _ = text.withCString { write(1, $0, strlen($0)) }
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first, !["-h", "--help", "help"].contains(command) else {
    say(usage + "\n")
    exit(arguments.isEmpty ? 64 : 0)
}
arguments.removeFirst()

/// The value after `option`, removed from `arguments`; nil when absent.
@MainActor func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name) else { return nil }
    guard index + 1 < arguments.count else { fail("\(name) needs a value\n\(usage)", status: 64) }
    let value = arguments[index + 1]
    arguments.removeSubrange(index...index + 1)
    return value
}

@MainActor func flag(_ name: String) -> Bool {
    guard let index = arguments.firstIndex(of: name) else { return false }
    arguments.remove(at: index)
    return true
}

let settings: Settings
switch SettingsLoader.load(environment: ProcessEnvironment.current()) {
case .success(let valid): settings = valid
case .failure(let error):
    if let root = error.spool { AlarmLog(spool: Spool(root: root)).append("cluster: settings invalid: \(error.message)") }
    fail("settings: \(error.message)", status: 78)
}
guard let conninfo = settings.cluster else {
    fail("\(Settings.Key.cluster) is not set: cluster mode is off (docs/cluster.md)", status: 78)
}
// A host that cannot reach PostgreSQL must not hang its runner: libpq waits forever by default.
setenv("PGCONNECT_TIMEOUT", "5", 0)
setenv("PGAPPNAME", "pixelhook-cluster", 0)

@MainActor func connect() -> PostgresConnection {
    do {
        return try PostgresConnection(conninfo)
    } catch {
        AlarmLog(spool: Spool(root: settings.spool)).append("cluster: PostgreSQL unreachable: \(error); deliveries wait in the spool, `pixelhook retry` hands them over")
        fail("PostgreSQL unreachable: \(error)", status: 69)
    }
}

@MainActor func seconds(_ text: String?, _ name: String) -> Int? {
    guard let text else { return nil }
    guard let value = DurationText.seconds(text) ?? Int(text), value >= 0, value <= 86_400 else {
        fail("\(name) must be a duration up to a day (30, 30s, 2m), got \(text)", status: 64)
    }
    return value
}

/// `replay`'s lines, `PROJECT/BUILD/EVENT: NEW STATE (was OLD STATE), ran by HOST`, each once.
final class ReplayLines {
    private(set) var keys: Set<DeliveryKey> = []

    func say(_ key: DeliveryKey, result: HandlerResult, was: HandlerResult?, host: String) {
        keys.insert(key)
        let line = "\(key.id): \(result.summary) (was \(was?.summary ?? "never finished")), ran by \(host)\n"
        _ = line.withCString { write(1, $0, strlen($0)) }
    }
}

@MainActor func rejectLeftovers() {
    if !arguments.isEmpty { fail("unexpected argument \(arguments[0])\n\(usage)", status: 64) }
}

do {
    switch command {
    case "init":
        let lease = seconds(option("--lease"), "--lease")
        let hold = seconds(option("--hold"), "--hold")
        rejectLeftovers()
        if let lease, lease < 1 { fail("--lease must be at least 1 s", status: 64) }
        let connection = connect()
        let (from, to) = try ClusterSchema.migrate(connection)
        let store = ClusterStore(connection: connection, host: ClusterHost.identity(spool: settings.spool))
        try store.setTiming(leaseSeconds: lease, holdSeconds: hold)
        let timing = try store.timing()
        say(from == to ? "schema at version \(to), nothing to do" : "schema migrated from version \(from) to \(to)")
        say("; lease \(timing.leaseSeconds) s, hold \(timing.holdSeconds) s\n")
    case "builds":
        rejectLeftovers()
        say(try ClusterReports.builds(connect()))
    case "metrics":
        rejectLeftovers()
        say(try ClusterReports.metrics(connect()))
    case "show":
        guard arguments.count == 1, let key = DetachedQueueRunner.key(fromID: arguments[0]) else {
            fail("show takes one delivery id PROJECT/BUILD/EVENT\n\(usage)", status: 64)
        }
        guard let text = try ClusterReports.show(key, connect()) else { fail("the cluster has no delivery \(key.id)", status: 65) }
        say(text)
    case "push":
        rejectLeftovers()
        let store = ClusterStore(connection: connect(), host: ClusterHost.identity(spool: settings.spool))
        let pushed = try ClusterIntake(settings: settings).handOver { (local) throws(PostgresError) in try store.push(local) }
        say("handed over \(pushed) deliveries\n")
    case "retry":
        let dryRun = flag("--dry-run")
        rejectLeftovers()
        HandlerProcess.adoptOrphans()
        let connection = connect()
        var runner = ClusterRunner(settings: settings, conninfo: conninfo)
        for (key, result) in try runner.rearmDue(connection, dryRun: dryRun) {
            say("\(dryRun ? "would run" : "will run") \(key.id) again (now \(result.summary))\n")
        }
        if !dryRun {
            runner.each = { key, result in say("\(key.id): \(result.summary)\n") }
            try runner.work(connection)
        }
    case "replay":
        let event = option("--event"), project = option("--project")
        guard arguments.count == 1, let uploadId = arguments.first, !uploadId.isEmpty else {
            fail("replay takes one uploadId\n\(usage)", status: 64)
        }
        HandlerProcess.adoptOrphans()
        let connection = connect()
        var runner = ClusterRunner(settings: settings, conninfo: conninfo)
        let store = ClusterStore(connection: connection, host: runner.host)
        let rearmed = try store.rearm(uploadId: uploadId, event: event, project: project)
        guard !rearmed.isEmpty else { fail("the cluster has no finished delivery of upload \(uploadId) to replay", status: 1) }
        // Run here, or by another host's runner that claims the build first: each line says where.
        let previous = Dictionary(rearmed.map { ($0.key, $0.previous) }, uniquingKeysWith: { first, _ in first })
        let said = ReplayLines(), here = runner.host
        runner.each = { key, result in
            guard let was = previous[key] else { return }
            said.say(key, result: result, was: was, host: here)
        }
        try runner.work(connection)
        var allDone = true
        for (key, was) in rearmed {
            let now = try store.outcome(key)
            if now?.result?.state != .done { allDone = false }
            if said.keys.contains(key) { continue }
            if let result = now?.result {
                said.say(key, result: result, was: was, host: now?.host ?? "?")
            } else {
                // Held behind an earlier delivery of its build not done, or run by a host not finished yet.
                say("\(key.id): waiting (was \(was?.summary ?? "never finished")): not run to an end yet; "
                    + "`pixelhook show \(key.id)` says where it is\n")
            }
        }
        if !allDone { exit(ExitStatus.failed.rawValue) }
    case "builds-view":
        let json = flag("--json")
        let project = option("--project")
        let limit = option("--limit").map { text -> Int in
            guard let number = Int(text), number >= 1 else { fail("--limit must be a whole number of at least 1, got \(text)", status: 64) }
            return number
        }
        rejectLeftovers()
        let views = ClusterViews(settings: settings)
        var unreachable: String?
        let stored: [StoredBuild]
        do {
            stored = try views.builds(try PostgresConnection(conninfo), projectId: project, limit: limit)
        } catch let error as PostgresError {
            unreachable = error.description
            stored = try views.builds(nil, projectId: project, limit: limit)
        }
        let now = Clock.milliseconds()
        let rows = BuildReport.rows(stored, now: now, stalledAfterSeconds: settings.stalledAfterSeconds, projectId: project, limit: limit)
        if json {
            say(BuildReport.json(rows).description + "\n")
        } else if rows.isEmpty {
            let scope = project.map { " of project \($0)" } ?? ""
            say("no builds\(scope) in \(unreachable == nil ? "the cluster nor in " : "")\(views.spool.layout.deliveries)\n")
        } else {
            say(BuildReport.table(rows, now: now))
        }
        if let unreachable { fail("PostgreSQL unreachable (\(unreachable)): this host's builds only, not the cluster's", status: 69) }
    case "show-view":
        guard arguments.count == 1, let key = DeliveryKey(id: arguments[0]) else {
            fail("show-view takes one delivery id PROJECT/BUILD/EVENT\n\(usage)", status: 64)
        }
        let views = ClusterViews(settings: settings)
        let text: String?
        do {
            text = try views.show(key, try PostgresConnection(conninfo))
        } catch {
            switch DeliveryText.local(key, spool: views.spool) {
            case .success(let local): say(local)
            case .failure(.missing(let message)), .failure(.unreadable(let message)):
                _ = "pixelhook-cluster: \(message)\n".withCString { write(2, $0, strlen($0)) }
            }
            fail("PostgreSQL unreachable (\(error)): this host's copy only, not the cluster's", status: 69)
        }
        guard let text else { fail("no delivery \(key.id) in the cluster nor in \(views.spool.layout.deliveries)", status: 65) }
        say(text)
    case "metrics-view", "status-view":
        // For the static `pixelhook` (`ClusterReadViews`), which reads stdout: complete answers
        // end with `completeLine`; none is printed when the cluster cannot be read (no alarm:
        // `pixelhook_cluster_up 0` and the page's notice say it, on every scrape).
        rejectLeftovers()
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection(conninfo)
        } catch {
            fail("PostgreSQL unreachable: \(error)", status: 69)
        }
        if command == "metrics-view" {
            say(try ClusterReports.metrics(connection) + ClusterReadViews.upFamily + "pixelhook_cluster_up 1\n")
        } else {
            let views = ClusterViews(settings: settings)
            let now = Clock.milliseconds()
            let stored = try views.builds(connection, projectId: nil, limit: StatusPage.buildLimit, outputHead: BuildsPage.outputBytes)
            let rows = BuildReport.rows(stored, now: now, stalledAfterSeconds: settings.stalledAfterSeconds, limit: StatusPage.buildLimit)
            say(BuildsPage.html(rows, now: now, shownAtMost: StatusPage.buildLimit, scope: "the cluster"))
        }
        say(ClusterReadViews.completeLine)
    case DetachedQueueRunner.subcommand:
        let slot = option(DetachedQueueRunner.slotOption).map { text -> Int in
            guard let index = Int(text), index >= 0 else { fail("\(DetachedQueueRunner.slotOption) takes a number", status: 64) }
            return index
        }
        rejectLeftovers()
        HandlerProcess.adoptOrphans()
        try ClusterQueue.drain(settings: settings, conninfo: conninfo, slot: slot, connect: connect)
    default:
        fail("unknown command \(command)\n\(usage)", status: 64)
    }
} catch let error as StorageError {
    fail("\(error)", status: ExitStatus.storage.rawValue)
} catch {
    AlarmLog(spool: Spool(root: settings.spool)).append("cluster: \(command): \(error)")
    fail("\(error)", status: 69)
}
