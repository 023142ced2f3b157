import PixelhookCore
import PixelhookRuntime

/// `pixelhook builds` and `pixelhook show` in cluster mode (`builds-view`, `show-view`): the
/// cluster's deliveries from PostgreSQL, with this host's not handed over yet, in the one-host
/// commands' shape, each naming the host that stored it and the host that ran it.
///
/// The cluster's row of a delivery stands for every host's copy of it (the local copies of a
/// handed-over delivery say only "handed over" or "cluster duplicate"); a local delivery the
/// cluster does not have (not handed over yet, or run before cluster mode was on) is shown as
/// this host's. Without a connection (PostgreSQL unreachable) both are this host's spool alone.
struct ClusterViews {
    let settings: Settings
    /// This host's name in the cluster (`ClusterHost`).
    let host: String

    init(settings: Settings) {
        self.settings = settings
        host = ClusterHost.identity(spool: settings.spool)
    }

    var spool: Spool { Spool(root: settings.spool) }

    // MARK: - builds

    /// The builds `pixelhook builds` reports (of `projectId` when given): with `limit`, at
    /// least the `limit` most recently stored ones of the cluster and of this spool, whole.
    /// `outputHead`: that much of each handler's output this host has (the status page).
    func builds(_ connection: PostgresConnection?, projectId: String?, limit: Int?, outputHead: Int = 0) throws -> [StoredBuild] {
        var local = try spool.storedBuilds(projectId: projectId, newest: limit, outputHead: outputHead)
        guard let connection else { return local }
        var rows: [ClusterRow]
        if let limit {
            rows = try ClusterRow.select(connection, where: """
                ($1::text IS NULL OR d.project = $1) AND (d.project, d.build) IN (
                    SELECT project, build FROM pixelhook_deliveries WHERE $1::text IS NULL OR project = $1
                    GROUP BY project, build ORDER BY max(stored_at) DESC LIMIT $2::integer)
                """, [.text(projectId), .text(String(limit))])
            // Each side's newest builds are read whole from the other side too.
            let inCluster = Set(rows.map(\.build))
            for build in local where !inCluster.contains(build.id) {
                rows += try ClusterRow.select(connection, where: "d.project = $1 AND d.build = $2",
                                              [.text(build.id.project), .text(build.id.build)])
            }
            let inSpool = Set(local.map(\.id))
            for id in Set(rows.map(\.build)) where !inSpool.contains(id) && DeliveryKey.isSegment(id.project) && DeliveryKey.isSegment(id.build) {
                local.append(try spool.storedBuild(id, outputHead: outputHead))
            }
        } else {
            rows = try ClusterRow.select(connection, where: "$1::text IS NULL OR d.project = $1", [.text(projectId)])
        }
        var order: [BuildID] = []
        var merged: [BuildID: StoredBuild] = [:]
        for row in rows {
            if merged[row.build] == nil {
                order.append(row.build)
                merged[row.build] = StoredBuild(id: row.build, isLocked: false, entries: [])
            }
            var entry = row.entry
            // Its output is on the host that ran it: here, when this host did.
            if outputHead > 0, entry.hosts?.ranBy == host || entry.hosts?.runningOn == host,
               [row.build.project, row.build.build, entry.name].allSatisfy({ DeliveryKey.isSegment($0) }) {
                let key = DeliveryKey(project: row.build.project, build: row.build.build, event: entry.name)
                entry.outputHead = ClusterRun(settings: settings).delivery(key).outputHead(bytes: outputHead)
            }
            merged[row.build]!.entries.append(entry)
            if row.leased { merged[row.build]!.isLocked = true }
        }
        for build in local {
            if merged[build.id] == nil {
                order.append(build.id)
                merged[build.id] = StoredBuild(id: build.id, isLocked: false, entries: [])
            }
            let inCluster = Set(merged[build.id]!.entries.map(\.name))
            for var entry in build.entries where !inCluster.contains(entry.name) {
                let handedOver = ClusterViews.isHandOver(entry.result)
                entry.hosts = DeliveryHosts(storedBy: host, ranBy: entry.result != nil && !handedOver ? host : nil, inCluster: handedOver)
                merged[build.id]!.entries.append(entry)
            }
            if build.isLocked { merged[build.id]!.isLocked = true }
        }
        return order.compactMap { merged[$0] }
    }

    /// A local result that only says where the delivery went (`ClusterIntake`).
    static func isHandOver(_ result: HandlerResult?) -> Bool {
        guard let detail = result?.detail else { return false }
        return detail == ClusterIntake.acceptedDetail || detail.hasPrefix(ClusterIntake.duplicatePrefix)
    }

    // MARK: - show

    /// `pixelhook show`'s text for the cluster's copy of `key`, with this host's; nil when
    /// neither the cluster nor this spool has it.
    func show(_ key: DeliveryKey, _ connection: PostgresConnection) throws(PostgresError) -> String? {
        let local = DeliveryText.local(key, spool: spool)
        guard let row = try ClusterRow.select(connection, where: "d.project = $1 AND d.build = $2 AND d.event = $3",
                                              [.text(key.project), .text(key.build), .text(key.event)]).first else {
            guard case .success(let text) = local else { return nil }
            return text + "\ncluster   not handed over yet: this host's next runner or `pixelhook retry` hands it over\n"
        }
        let hosts = row.entry.hosts!
        var text = "delivery  \(key.id)\n"
        text += "stored    \(EpochTime.iso8601(milliseconds: row.entry.receivedAt)) by \(hosts.storedBy) (the cluster's copy)\n"
        if !hosts.alsoStoredBy.isEmpty {
            text += "also      stored by \(hosts.alsoStoredBy.joined(separator: ", ")) (duplicates: they ran nothing)\n"
        }
        text += "payload   the cluster's copy, in PostgreSQL\n" + DeliveryText.payloadText(row.entry.body)

        let ended = row.finishedAt.map { ", ended \($0)" } ?? ""
        if let running = hosts.runningOn {
            text += "\nresult    none yet: running on \(running) since \(row.startedAt ?? "?"), attempt \(row.attempts)\n"
        } else if row.entry.result != nil, let ranBy = hosts.ranBy {
            text += "\nresult    the cluster's: ran by \(ranBy)\(ended)\n"
        } else if row.lastResult != nil {
            text += "\nresult    none yet: waiting to run again (retry or replay); the last run, by \(hosts.ranBy ?? "?")\(ended):\n"
        } else {
            text += "\nresult    none yet: waiting to run on whichever host claims its build\n"
        }
        if let last = row.lastResult { text += DeliveryText.resultLines(Array(last.utf8)) }

        let ranHere = hosts.runningOn == host || (hosts.runningOn == nil && hosts.ranBy == host)
        if ranHere {
            text += "\n" + DeliveryText.outputText(of: ClusterRun(settings: settings).delivery(key))
        } else if let other = hosts.runningOn ?? hosts.ranBy {
            text += "\noutput    on \(other), which ran it: `pixelhook show \(key.id)` there prints it\n"
        } else {
            text += "\noutput    none (it has not run)\n"
        }

        let stored = StoredDelivery(directory: spool.layout.buildDirectory(key), event: key.event)
        switch local {
        case .success:
            let said = stored.result().map { "\($0.summary)\($0.detail.map { ": \($0)" } ?? "")" } ?? "no result yet"
            text += "\nhere      \(host) has a copy, \(stored.payloadPath): \(said)\n"
        case .failure(.missing):
            text += "\nhere      \(host) did not store it\n"
        case .failure(.unreadable(let message)):
            text += "\nhere      \(host): \(message)\n"
        }
        return text
    }
}

/// One row of `pixelhook_deliveries` as the views need it.
struct ClusterRow {
    let build: BuildID
    /// The delivery as a spool entry: `result` only when its last run has ended and it does
    /// not wait to run again; `hosts` always.
    let entry: StoredBuild.Entry
    /// The last run's result, also while it waits to run again (after `retry` or `replay`).
    let lastResult: String?
    /// The build's lease is held now.
    let leased: Bool
    let attempts: Int
    let startedAt: String?
    let finishedAt: String?

    static func select(_ connection: PostgresConnection, where condition: String,
                       _ parameters: [PostgresConnection.Parameter]) throws(PostgresError) -> [ClusterRow] {
        try connection.query("""
            SELECT d.project, d.build, d.event, d.payload, (extract(epoch FROM d.stored_at) * 1000)::bigint, d.state, d.result,
                d.stored_by, array_to_string(d.also_stored_by, chr(10)), d.ran_by, d.running_on,
                coalesce(b.lease_expires > now(), false), d.attempts,
                to_char(d.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                to_char(d.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
            FROM pixelhook_deliveries d JOIN pixelhook_builds b USING (project, build)
            WHERE \(condition)
            ORDER BY d.project, d.build, d.seq
            """, parameters).compactMap { row in
            guard let project = row[0], let build = row[1], let event = row[2],
                  let body = row[3].flatMap({ PostgresConnection.bytes(fromByteaText: $0) }) else { return nil }
            let result = row[5] == nil ? nil : row[6].flatMap { HandlerResult(stored: Array($0.utf8)) }
            let also = (row[8] ?? "").split(separator: "\n").map(String.init)
            let hosts = DeliveryHosts(storedBy: row[7] ?? "?", alsoStoredBy: also, ranBy: row[9], runningOn: row[10])
            let entry = StoredBuild.Entry(name: event, body: body, receivedAt: row[4].flatMap { Int($0) } ?? 0,
                                          result: result, hosts: hosts)
            return ClusterRow(build: BuildID(project: project, build: build), entry: entry, lastResult: row[6], leased: row[11] == "t",
                              attempts: row[12].flatMap { Int($0) } ?? 0, startedAt: row[13], finishedAt: row[14])
        }
    }
}
