import PixelhookCore

/// `pixelhook cluster builds` and `show`: the whole cluster's deliveries, with which host
/// stored each and which ran it.
enum ClusterReports {
    static func builds(_ connection: PostgresConnection) throws(PostgresError) -> String {
        let rows = try connection.query("""
            SELECT b.project || '/' || b.build, count(d.event),
                (array_agg(d.event ORDER BY d.rank DESC, d.seq DESC))[1],
                string_agg(DISTINCT coalesce(d.state, CASE WHEN d.running_on IS NULL THEN 'waiting' ELSE 'running' END), ','),
                string_agg(DISTINCT d.stored_by, ' '), coalesce(string_agg(DISTINCT d.ran_by, ' '), '-'),
                CASE WHEN b.lease_expires > now() THEN b.lease_holder ELSE '-' END
            FROM pixelhook_builds b JOIN pixelhook_deliveries d USING (project, build)
            GROUP BY b.project, b.build, b.lease_holder, b.lease_expires
            ORDER BY max(d.pushed_at) DESC
            """)
        var lines = ["BUILD\tDELIVERIES\tLAST EVENT\tSTATES\tSTORED BY\tRAN BY\tLEASE"]
        for row in rows { lines.append(row.map { $0 ?? "-" }.joined(separator: "\t")) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// nil: the cluster has no such delivery.
    static func show(_ key: DeliveryKey, _ connection: PostgresConnection) throws(PostgresError) -> String? {
        let rows = try connection.query("""
            SELECT stored_by, array_to_string(also_stored_by, ', '), stored_at, pushed_at, state, attempts, running_on, started_at,
                ran_by, finished_at, result, length(payload)
            FROM pixelhook_deliveries WHERE project = $1 AND build = $2 AND event = $3
            """, [.text(key.project), .text(key.build), .text(key.event)])
        guard let row = rows.first else { return nil }
        func field(_ index: Int) -> String { row[index] ?? "-" }
        // A result stays beside a delivery made to wait again (`retry`, `replay`): not its state.
        let result = row[4] == nil ? nil : row[10].flatMap { HandlerResult(stored: Array($0.utf8)) }
        let state = result.map { "\($0.summary)\($0.detail.map { ": \($0)" } ?? "")" }
            ?? (row[6] != nil ? "running on \(field(6)) since \(field(7)), attempt \(field(5))" : "waiting to run")
        var lines = [
            "delivery:  \(key.id)",
            "state:     \(state)",
            "stored by: \(field(0)) at \(field(2)), in the cluster at \(field(3)) (\(field(11)) bytes)",
        ]
        if let also = row[1], !also.isEmpty { lines.append("also stored by (duplicates, not run): \(also)") }
        if let ranBy = row[8] { lines.append("ran by:    \(ranBy), ended \(field(9)), attempts \(field(5))") }
        if let handler = result?.handler { lines.append("handler:   \(handler) (its output is on the host that ran it)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension ClusterReports {
    /// `pixelhook cluster metrics`: the cluster's state in Prometheus' text format, for
    /// node_exporter's textfile collector on any one host (docs/cluster.md, "Monitoring").
    static func metrics(_ connection: PostgresConnection) throws(PostgresError) -> String {
        var lines: [String] = []
        func family(_ name: String, _ help: String) {
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) gauge"]
        }
        family("pixelhook_cluster_deliveries", "Deliveries in the cluster by state (waiting: not run to an end yet).")
        let states = try connection.query("SELECT coalesce(state, 'waiting'), count(*) FROM pixelhook_deliveries GROUP BY 1 ORDER BY 1")
        var counts = Dictionary(uniqueKeysWithValues: ["waiting", "done", "failed", "retry", "timeout", "gave_up"].map { ($0, "0") })
        for row in states { if let state = row[0], let count = row[1] { counts[state] = count } }
        for (state, count) in counts.sorted(by: { $0.key < $1.key }) {
            lines.append("pixelhook_cluster_deliveries{state=\"\(Metrics.escaped(state))\"} \(count)")
        }
        family("pixelhook_cluster_oldest_waiting_seconds", "Age of the oldest delivery waiting to run, since it reached PostgreSQL; 0 when none waits.")
        let oldest = try connection.query("""
            SELECT coalesce(extract(epoch FROM now() - min(pushed_at)), 0)::bigint FROM pixelhook_deliveries WHERE state IS NULL
            """).first?.first ?? nil
        lines.append("pixelhook_cluster_oldest_waiting_seconds \(oldest ?? "0")")
        family("pixelhook_cluster_expired_leases", "Builds whose lease expired without being released: a runner died or paused.")
        let expired = try connection.query("""
            SELECT count(*) FROM pixelhook_builds WHERE lease_holder IS NOT NULL AND lease_expires < now()
            """).first?.first ?? nil
        lines.append("pixelhook_cluster_expired_leases \(expired ?? "0")")
        family("pixelhook_cluster_runs", "Deliveries whose last run ended, by the host that ran them.")
        for row in try connection.query("SELECT ran_by, count(*) FROM pixelhook_deliveries WHERE ran_by IS NOT NULL GROUP BY 1 ORDER BY 1") {
            if let host = row[0], let count = row[1] { lines.append("pixelhook_cluster_runs{host=\"\(Metrics.escaped(host))\"} \(count)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
