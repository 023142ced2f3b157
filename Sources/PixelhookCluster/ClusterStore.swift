import PixelhookCore
import PixelhookRuntime

/// The cluster's state in PostgreSQL, one statement per step (see `ClusterSchema` for the
/// tables). A lease is a build row's `lease_holder` + `lease_expires`; claiming it adds one to
/// `fence`, and every later write of the claimer names the fence it got: once another host has
/// claimed the build after an expiry, the stale holder's writes match no row.
struct ClusterStore {
    let connection: PostgresConnection
    /// This host: `HOSTNAME:SPOOL` (`ClusterHost`).
    let host: String

    struct Timing {
        let leaseSeconds: Int
        let holdSeconds: Int
    }

    func timing() throws(PostgresError) -> Timing {
        let rows = try connection.query("SELECT name, value FROM pixelhook_cluster_settings")
        var values: [String: Int] = [:]
        for row in rows { if let name = row[0], let value = row[1].flatMap({ Int($0) }) { values[name] = value } }
        return Timing(leaseSeconds: max(1, values["lease_seconds"] ?? 30), holdSeconds: max(0, values["hold_seconds"] ?? 5))
    }

    func setTiming(leaseSeconds: Int?, holdSeconds: Int?) throws(PostgresError) {
        for (name, value) in [("lease_seconds", leaseSeconds), ("hold_seconds", holdSeconds)] {
            guard let value else { continue }
            try connection.query("UPDATE pixelhook_cluster_settings SET value = $2 WHERE name = $1", [.text(name), .text(String(value))])
        }
    }

    // MARK: - Hand-over

    /// Inserts the delivery unless the cluster has it; says whose copy the cluster keeps. A new
    /// delivery also lifts its build's hold: it may be the stage the build waited for.
    func push(_ local: ClusterIntake.Local) throws(PostgresError) -> ClusterIntake.Pushed {
        let rows = try connection.query("""
            WITH build AS (
                INSERT INTO pixelhook_builds (project, build) VALUES ($1, $2)
                ON CONFLICT (project, build) DO UPDATE SET ready_at = NULL
                RETURNING 1
            )
            INSERT INTO pixelhook_deliveries AS d (project, build, event, rank, payload, stored_by, stored_at)
            SELECT $1, $2, $3, $4, $5, $6, to_timestamp($7::double precision / 1000) FROM build
            ON CONFLICT (project, build, event) DO UPDATE SET also_stored_by =
                CASE WHEN d.stored_by = EXCLUDED.stored_by OR EXCLUDED.stored_by = ANY (d.also_stored_by)
                THEN d.also_stored_by ELSE d.also_stored_by || EXCLUDED.stored_by END
            RETURNING d.stored_by
            """, [.text(local.key.project), .text(local.key.build), .text(local.key.event),
                  .text(String(PipelineOrder.rank(of: local.key.event))), .bytes(local.body), .text(host),
                  .text(String(local.storedAt))])
        guard let storedBy = rows.first?.first ?? nil else { throw PostgresError(description: "the insert returned no row") }
        return storedBy == host ? .accepted : .duplicate(storedBy: storedBy)
    }

    // MARK: - Leases

    struct Lease {
        let build: BuildID
        let fence: String
    }

    /// The builds whose first delivery not settled has not run to an end: what a runner may take.
    private static let runnableBuilds = """
        (b.project, b.build) IN (SELECT project, build FROM pixelhook_deliveries WHERE state IS NULL)
        AND (SELECT d.state IS NULL FROM pixelhook_deliveries d
             WHERE d.project = b.project AND d.build = b.build AND (d.state IS NULL OR d.state NOT IN ('done', 'gave_up'))
             ORDER BY d.rank, d.seq LIMIT 1)
        """

    /// Takes the lease of one runnable build nobody holds (or whose lease expired) and whose
    /// hold is over; nil when there is none. Rows other runners are claiming are skipped.
    func claim(leaseSeconds: Int) throws(PostgresError) -> Lease? {
        let rows = try connection.query("""
            UPDATE pixelhook_builds SET fence = fence + 1, lease_holder = $1,
                lease_expires = now() + make_interval(secs => $2::double precision), ready_at = NULL
            WHERE (project, build) = (
                SELECT b.project, b.build FROM pixelhook_builds b
                WHERE (b.lease_expires IS NULL OR b.lease_expires < now()) AND (b.ready_at IS NULL OR b.ready_at <= now())
                AND \(ClusterStore.runnableBuilds)
                LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING project, build, fence
            """, [.text(host), .text(String(leaseSeconds))])
        guard let row = rows.first, let project = row[0], let build = row[1], let fence = row[2] else { return nil }
        return Lease(build: BuildID(project: project, build: build), fence: fence)
    }

    /// Whether some build still has a delivery to run, held or leased now: a runner waits for it.
    func hasWaitingWork() throws(PostgresError) -> Bool {
        let rows = try connection.query("SELECT EXISTS (SELECT 1 FROM pixelhook_builds b WHERE \(ClusterStore.runnableBuilds))")
        return rows.first?.first == "t"
    }

    func renew(_ lease: Lease, leaseSeconds: Int) throws(PostgresError) -> Bool {
        try !connection.query("""
            UPDATE pixelhook_builds SET lease_expires = now() + make_interval(secs => $4::double precision)
            WHERE project = $1 AND build = $2 AND fence = $3 RETURNING 1
            """, [.text(lease.build.project), .text(lease.build.build), .text(lease.fence), .text(String(leaseSeconds))]).isEmpty
    }

    func release(_ lease: Lease, readyAt: Int? = nil) throws(PostgresError) {
        try connection.query("""
            UPDATE pixelhook_builds SET lease_holder = NULL, lease_expires = NULL,
                ready_at = CASE WHEN $4::bigint IS NULL THEN NULL ELSE to_timestamp($4::double precision / 1000) END
            WHERE project = $1 AND build = $2 AND fence = $3
            """, [.text(lease.build.project), .text(lease.build.build), .text(lease.fence), .text(readyAt.map(String.init))])
    }

    // MARK: - Runs

    /// The first delivery of the build not settled, in `PipelineOrder`.
    struct Next {
        let event: String
        let rank: Int
        /// Its state: nil when it has not run to an end (it may run now).
        let state: String?
        let pushedAt: Int
        let now: Int
        let presentRanks: Set<Int>
    }

    func next(of build: BuildID) throws(PostgresError) -> Next? {
        let rows = try connection.query("""
            SELECT d.event, d.rank, d.state, (extract(epoch FROM d.pushed_at) * 1000)::bigint, (extract(epoch FROM now()) * 1000)::bigint,
                (SELECT string_agg(DISTINCT rank::text, ',') FROM pixelhook_deliveries WHERE project = $1 AND build = $2)
            FROM pixelhook_deliveries d
            WHERE d.project = $1 AND d.build = $2 AND (d.state IS NULL OR d.state NOT IN ('done', 'gave_up'))
            ORDER BY d.rank, d.seq LIMIT 1
            """, [.text(build.project), .text(build.build)])
        guard let row = rows.first, let event = row[0], let rank = row[1].flatMap({ Int($0) }) else { return nil }
        let present = Set((row[5] ?? "").split(separator: ",").compactMap { Int($0) })
        return Next(event: event, rank: rank, state: row[2], pushedAt: row[3].flatMap { Int($0) } ?? 0,
                    now: row[4].flatMap { Int($0) } ?? 0, presentRanks: present)
    }

    /// Counts the attempt and notes who runs it, under the lease; nil if the lease is gone
    /// (another host claimed the build) or the delivery is no longer waiting.
    func start(_ key: DeliveryKey, under lease: Lease) throws(PostgresError) -> (attempt: Int, body: [UInt8])? {
        let rows = try connection.query("""
            WITH lease AS (SELECT 1 FROM pixelhook_builds WHERE project = $1 AND build = $2 AND fence = $4 FOR SHARE)
            UPDATE pixelhook_deliveries SET attempts = attempts + 1, running_on = $5, started_at = now()
            WHERE project = $1 AND build = $2 AND event = $3 AND state IS NULL AND EXISTS (SELECT 1 FROM lease)
            RETURNING attempts, payload
            """, [.text(key.project), .text(key.build), .text(key.event), .text(lease.fence), .text(host)])
        guard let row = rows.first, let attempt = row[0].flatMap({ Int($0) }),
              let body = row[1].flatMap({ PostgresConnection.bytes(fromByteaText: $0) }) else { return nil }
        return (attempt, body)
    }

    /// Records the run's result, only if the lease is still this runner's (its fence is the
    /// build's): false means another host took the build over and this result counts for nothing.
    /// The build row is read `FOR SHARE`, so a claim cannot slip in before this commits.
    func finish(_ key: DeliveryKey, under lease: Lease, result: HandlerResult) throws(PostgresError) -> Bool {
        try !connection.query("""
            WITH lease AS (SELECT 1 FROM pixelhook_builds WHERE project = $1 AND build = $2 AND fence = $4 FOR SHARE)
            UPDATE pixelhook_deliveries SET state = $5, result = $6, ran_by = $7, finished_at = now(), running_on = NULL
            WHERE project = $1 AND build = $2 AND event = $3 AND EXISTS (SELECT 1 FROM lease)
            RETURNING 1
            """, [.text(key.project), .text(key.build), .text(key.event), .text(lease.fence),
                  .text(result.state.rawValue), .text(result.json.description), .text(host)]).isEmpty
    }

    // MARK: - Retry

    /// Deliveries whose last run failed, timed out or asked for a retry, with that result.
    func unsettledResults() throws(PostgresError) -> [(key: DeliveryKey, result: HandlerResult)] {
        try connection.query("""
            SELECT project, build, event, result FROM pixelhook_deliveries WHERE state IN ('failed', 'retry', 'timeout')
            ORDER BY project, build, rank, seq
            """).compactMap { row in
            guard let project = row[0], let build = row[1], let event = row[2], let text = row[3],
                  let result = HandlerResult(stored: Array(text.utf8)) else { return nil }
            return (DeliveryKey(project: project, build: build, event: event), result)
        }
    }

    /// `replay`: the build's deliveries (of `event`, in `project`, when given) wait to run
    /// again, whatever their result; returns their keys with the result they had. One that has
    /// not run to an end yet is left as it is: it will run anyway. Only `state` changes: the
    /// build's lease and fence are untouched, so a runner claims the build as for any waiting
    /// delivery (one host, under a new fence), and one holding it now runs it next.
    func rearm(uploadId: String, event: String?, project: String?) throws(PostgresError) -> [(key: DeliveryKey, previous: HandlerResult?)] {
        try connection.query("""
            WITH old AS (
                SELECT project, build, event, result FROM pixelhook_deliveries
                WHERE build = $1 AND ($2::text IS NULL OR event = $2) AND ($3::text IS NULL OR project = $3) AND state IS NOT NULL
                ORDER BY project, build, rank, seq
                FOR UPDATE
            )
            UPDATE pixelhook_deliveries d SET state = NULL FROM old
            WHERE d.project = old.project AND d.build = old.build AND d.event = old.event AND d.state IS NOT NULL
            RETURNING d.project, d.build, d.event, old.result, d.rank, d.seq
            """, [.text(uploadId), .text(event), .text(project)]).compactMap { row -> (DeliveryKey, HandlerResult?, Int, Int)? in
            guard let project = row[0], let build = row[1], let event = row[2] else { return nil }
            return (DeliveryKey(project: project, build: build, event: event), row[3].flatMap { HandlerResult(stored: Array($0.utf8)) },
                    row[4].flatMap { Int($0) } ?? 0, row[5].flatMap { Int($0) } ?? 0)
        }.sorted { ($0.2, $0.3) < ($1.2, $1.3) }.map { (key: $0.0, previous: $0.1) }
    }

    /// Where a delivery is now: its result once its run has ended (nil while it waits or runs),
    /// and the host whose run ended last (or that runs it now).
    func outcome(_ key: DeliveryKey) throws(PostgresError) -> (result: HandlerResult?, host: String?)? {
        guard let row = try connection.query("""
            SELECT state, result, coalesce(running_on, ran_by) FROM pixelhook_deliveries WHERE project = $1 AND build = $2 AND event = $3
            """, [.text(key.project), .text(key.build), .text(key.event)]).first else { return nil }
        return (row[0] == nil ? nil : row[1].flatMap { HandlerResult(stored: Array($0.utf8)) }, row[2])
    }

    /// Makes a delivery wait to run again, if it still has the state `retry` saw.
    func rearm(_ key: DeliveryKey, from state: HandlerResult.State) throws(PostgresError) {
        try connection.query("""
            UPDATE pixelhook_deliveries SET state = NULL WHERE project = $1 AND build = $2 AND event = $3 AND state = $4
            """, [.text(key.project), .text(key.build), .text(key.event), .text(state.rawValue)])
    }
}
