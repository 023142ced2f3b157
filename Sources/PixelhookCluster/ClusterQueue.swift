import PixelhookCore
import PixelhookRuntime

/// The runner pool's protocol (`DetachedQueueRunner.runPending`) around `ClusterRunner`: a
/// runner slot held while working, the pending list looked at again after giving it back, so
/// that a delivery whose gateway found every slot held is never left behind.
enum ClusterQueue {
    static func drain(settings: Settings, conninfo: String, slot: Int?,
                      connect: () -> PostgresConnection) throws {
        let spool = Spool(root: settings.spool)
        try spool.prepare()
        try spool.verifyTrusted()
        let pending = PendingBuilds(spool: spool)
        let runners = HandlerSlots.runners(spool: spool, count: settings.maxHandlers)
        var handedDown = slot.map { HandlerSlots.Slot.inherited(index: $0, descriptor: DetachedQueueRunner.inheritedSlotDescriptor) }
        var connection: PostgresConnection?
        var rounds = 0
        repeat {
            let held: HandlerSlots.Slot
            if let passed = handedDown.take() {
                held = passed
            } else if let free = try runners.tryAcquire() {
                held = free
            } else {
                break
            }
            if connection == nil { connection = connect() }
            if let connection { try ClusterRunner(settings: settings, conninfo: conninfo).work(connection) }
            held.release()
            rounds += 1
        } while rounds < 3 && !pending.isEmpty
    }
}
