#if canImport(Glibc)
import Glibc
#endif
import PixelhookCore
import SystemPackage

/// One delivery the cluster gave this host to run, whichever host stored it: its payload is
/// written to `SPOOL/cluster/PROJECT/BUILD/EVENT.json` and its handler run from there exactly
/// as a local one (`HandlerRun`: handlers directory, environment, slots, timeout), its output
/// and result kept beside it. PostgreSQL holds the delivery's state; these files are this
/// host's copy of the run.
public struct ClusterRun {
    public let settings: Settings
    public let spool: Spool

    public init(settings: Settings) {
        self.settings = settings
        spool = Spool(root: settings.spool)
    }

    /// `SPOOL/cluster`.
    public var directory: String { spool.root + "/cluster" }

    /// Where `key` runs from on this host.
    public func delivery(_ key: DeliveryKey) -> StoredDelivery {
        StoredDelivery(directory: "\(directory)/\(key.project)/\(key.build)", name: key.event + ".json")
    }

    /// Runs the handler of `key` with `body` as its payload, as attempt `attempt`; the result
    /// is counted against `PIXELHOOK_RETRY_LIMIT` like a local one. A key the cluster returned
    /// that is no spool name (a row written by something else) is refused, never used as a path.
    public func run(_ key: DeliveryKey, body: [UInt8], attempt: Int) throws(StorageError) -> HandlerResult {
        guard [key.project, key.build, key.event].allSatisfy({ DeliveryKey.isSegment($0) }) else {
            throw StorageError("run", key.id, .invalidArgument)
        }
        // A row this host would not have stored (another project, a row written by something
        // else than pixelhook) runs nothing here.
        guard let envelope = try? EnvelopeParser.parse(body), envelope.projectId == key.project,
              settings.projectIDs?.contains(envelope.projectId) == true else {
            return HandlerResult(state: .failed, handler: nil, exitCode: nil, signal: nil, startedAt: Clock.iso8601(), durationMs: 0,
                                 outputBytes: 0, outputTruncated: false,
                                 detail: "the cluster's copy is no delivery for PIXELHOOK_PROJECT_IDS here: not run")
                .counted(asAttempt: attempt, limit: settings.retryLimit)
        }
        let delivery = try materialize(key, body: body)
        unlink(delivery.outputPath)  // output beside a result is always that run's own
        let result = try HandlerRun(spool: spool, settings: settings, delivery: delivery, buildLock: nil, attemptNumber: attempt)
            .run().counted(asAttempt: attempt, limit: settings.retryLimit)
        try? delivery.record(result)
        return result
    }

    /// Writes the payload under a temporary name and renames it into place: a handler never
    /// sees half of it. Not synced: PostgreSQL has it, and a lost copy is written again.
    private func materialize(_ key: DeliveryKey, body: [UInt8]) throws(StorageError) -> StoredDelivery {
        let delivery = delivery(key)
        try SpoolTrust.check(spool.root)
        for path in [directory, "\(directory)/\(key.project)", delivery.directory] {
            _ = try attempt("create", path) { try Syscalls.makeDirectory(path) }
        }
        try SpoolTrust.check(directory)
        try spool.withTemporaryFile(in: delivery.directory) { temporary, fd throws(StorageError) in
            _ = try attempt("write", temporary) { try fd.writeAll(body) }
            guard rename(temporary, delivery.payloadPath) == 0 else {
                throw StorageError("rename", temporary, Errno(rawValue: errno))
            }
        }
        return delivery
    }
}
