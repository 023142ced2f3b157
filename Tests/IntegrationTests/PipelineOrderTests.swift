@testable import pixelhook_cluster
import Testing

/// Which deliveries cluster mode holds for an earlier stage that may still be on another host.
@Suite struct PipelineOrderTests {
    @Test func ranksFollowThePipelineThenRejectedThenOthers() {
        #expect(PipelineOrder.rank(of: "build.uploaded") == 0)
        #expect(PipelineOrder.rank(of: "build.approved") == 5)
        #expect(PipelineOrder.rank(of: "build.rejected") == PipelineOrder.rejectedRank)
        #expect(PipelineOrder.rank(of: "webhook.test") == PipelineOrder.otherRank)
        #expect(PipelineOrder.rank(of: "build.something-new") == PipelineOrder.otherRank)
    }

    @Test func aStageWaitsOnlyWhileAnEarlierOneIsMissing() {
        #expect(!PipelineOrder.mayMissEarlierStage(rank: 0, present: [], accepted: nil))
        #expect(PipelineOrder.mayMissEarlierStage(rank: 1, present: [1], accepted: nil))
        #expect(!PipelineOrder.mayMissEarlierStage(rank: 1, present: [0, 1], accepted: nil))
        #expect(PipelineOrder.mayMissEarlierStage(rank: 5, present: [0, 1, 2, 4, 5], accepted: nil))
        #expect(!PipelineOrder.mayMissEarlierStage(rank: PipelineOrder.otherRank, present: [], accepted: nil))
    }

    @Test func aRejectionWaitsUnlessEveryStageItCanFollowIsThere() {
        let rejected = PipelineOrder.rejectedRank
        #expect(PipelineOrder.mayMissEarlierStage(rank: rejected, present: [0, 1, 2, rejected], accepted: nil))
        #expect(!PipelineOrder.mayMissEarlierStage(rank: rejected, present: [0, 1, 2, 3, 4, rejected], accepted: nil))
    }

    @Test func stagesTheSettingsLeaveOutAreNotWaitedFor() {
        let accepted: Set<String> = ["build.approved", "build.rejected"]
        #expect(!PipelineOrder.mayMissEarlierStage(rank: 5, present: [5], accepted: accepted))
        #expect(!PipelineOrder.mayMissEarlierStage(rank: PipelineOrder.rejectedRank, present: [], accepted: accepted))
        #expect(PipelineOrder.mayMissEarlierStage(rank: 2, present: [2], accepted: ["build.uploaded", "build.extracting"]))
    }
}
