/// The cluster's tables in PostgreSQL, created and migrated by `pixelhook cluster init`: each
/// migration runs once, in order, in one transaction under an advisory lock, so two hosts
/// running `init` at once, or `init` run again, change nothing twice.
///
/// - `pixelhook_builds`: one row per build: the lease (`lease_holder`, `lease_expires`), the
///   fencing counter `fence` (one more at every claim), and `ready_at` (a build whose next
///   delivery waits for an earlier stage still on another host, `PipelineOrder`).
/// - `pixelhook_deliveries`: one row per event, keyed like the spool (project, build, event):
///   the payload, which host stored it first (`stored_by`) and which also did
///   (`also_stored_by`), its run (`attempts`, `running_on`, `ran_by`, `state`, `result`, the
///   JSON a local `EVENT.result` holds). `state` NULL: not run to an end yet.
/// - `pixelhook_cluster_settings`: the lease and the hold, the same for every host.
enum ClusterSchema {
    static let migrations: [String] = [
        """
        CREATE TABLE pixelhook_cluster_settings (name text PRIMARY KEY, value integer NOT NULL);
        INSERT INTO pixelhook_cluster_settings VALUES ('lease_seconds', 30), ('hold_seconds', 5);
        CREATE TABLE pixelhook_builds (
            project text NOT NULL,
            build text NOT NULL,
            fence bigint NOT NULL DEFAULT 0,
            lease_holder text,
            lease_expires timestamptz,
            ready_at timestamptz,
            PRIMARY KEY (project, build)
        );
        CREATE TABLE pixelhook_deliveries (
            project text NOT NULL,
            build text NOT NULL,
            event text NOT NULL,
            seq bigserial NOT NULL,
            rank integer NOT NULL,
            payload bytea NOT NULL,
            stored_by text NOT NULL,
            also_stored_by text[] NOT NULL DEFAULT '{}',
            stored_at timestamptz NOT NULL,
            pushed_at timestamptz NOT NULL DEFAULT now(),
            state text,
            attempts integer NOT NULL DEFAULT 0,
            running_on text,
            started_at timestamptz,
            ran_by text,
            finished_at timestamptz,
            result text,
            PRIMARY KEY (project, build, event),
            FOREIGN KEY (project, build) REFERENCES pixelhook_builds
        );
        CREATE INDEX pixelhook_deliveries_waiting ON pixelhook_deliveries (project, build) WHERE state IS NULL;
        CREATE INDEX pixelhook_deliveries_unsettled ON pixelhook_deliveries (project, build, rank, seq)
            WHERE state IS NULL OR state NOT IN ('done', 'gave_up');
        """,
    ]

    /// Brings the schema to the newest version; returns (the version found, the version now).
    static func migrate(_ connection: PostgresConnection) throws(PostgresError) -> (from: Int, to: Int) {
        try connection.query("BEGIN")
        do throws(PostgresError) {
            // Any constant, the same for every pixelhook: serialises concurrent `init`s.
            try connection.query("SELECT pg_advisory_xact_lock(7046111508)")
            try connection.query("CREATE TABLE IF NOT EXISTS pixelhook_schema (version integer NOT NULL)")
            let found = try connection.query("SELECT version FROM pixelhook_schema").first?.first.flatMap { $0.flatMap { Int($0) } }
            if found == nil { try connection.query("INSERT INTO pixelhook_schema VALUES (0)") }
            let from = found ?? 0
            for (index, migration) in migrations.enumerated() where index >= from {
                for statement in migration.split(separator: ";").map({ String($0) }) where statement.contains(where: { !$0.isWhitespace }) {
                    try connection.query(statement)
                }
            }
            try connection.query("UPDATE pixelhook_schema SET version = $1", [.text(String(migrations.count))])
            try connection.query("COMMIT")
            return (from, max(from, migrations.count))
        } catch {
            _ = try? connection.query("ROLLBACK")
            throw error
        }
    }

    /// The version the database is at; 0 when `init` never ran there.
    static func version(_ connection: PostgresConnection) throws(PostgresError) -> Int {
        let exists = try connection.query("SELECT to_regclass('pixelhook_schema') IS NOT NULL").first?.first ?? nil
        guard exists == "t" else { return 0 }
        return (try connection.query("SELECT version FROM pixelhook_schema").first?.first ?? nil).flatMap { Int($0) } ?? 0
    }
}
