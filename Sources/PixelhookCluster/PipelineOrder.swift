import PixelhookCore

/// The order a build's deliveries run in across hosts: by pipeline stage (`Pipeline.stages`,
/// then `build.rejected`, then any other event), and among equals in the order they reached
/// PostgreSQL.
///
/// Arrival order alone is not enough with several hosts: `build.uploaded` may be stored on one
/// host and `build.downloading` on another that hands it over first. So a delivery whose
/// earlier stages are not all in PostgreSQL yet is held, up to the cluster's hold time after it
/// arrived there, for them to come (from a host that is slow, or down: then it runs after the
/// hold, and the late one when its host is back). A `build.rejected` may follow any stage, so
/// which are missing cannot be known: it is held unless every stage it can follow is there.
/// Stages `PIXELHOOK_EVENTS` does not accept are not waited for.
enum PipelineOrder {
    static let rejectedRank = Pipeline.stages.count
    static let otherRank = rejectedRank + 1

    static func rank(of event: String) -> Int {
        if let index = Pipeline.stages.firstIndex(where: { $0.event == event }) { return index }
        return event == Pipeline.rejected.event ? rejectedRank : otherRank
    }

    /// Whether a delivery of rank `rank` may have an earlier stage not in `present` (the ranks
    /// of the build's deliveries in PostgreSQL) yet. Stages `PIXELHOOK_EVENTS` leaves out
    /// (`accepted`; nil: every event) never come, so none is waited for.
    static func mayMissEarlierStage(rank: Int, present: Set<Int>, accepted: Set<String>?) -> Bool {
        let earlier: Range<Int>
        switch rank {
        case rejectedRank: earlier = 0..<Pipeline.rejectable.count
        case otherRank: return false
        default: earlier = 0..<rank
        }
        return earlier.contains { !present.contains($0) && accepted?.contains(Pipeline.stages[$0].event) != false }
    }
}
