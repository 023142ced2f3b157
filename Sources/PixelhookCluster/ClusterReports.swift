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
        let result = row[10].flatMap { HandlerResult(stored: Array($0.utf8)) }
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
